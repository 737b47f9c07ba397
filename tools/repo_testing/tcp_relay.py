"""A TCP relay on 127.0.0.1 in front of a real server, for tests and benchmarks that watch the traffic."""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpRelay:
    """Relays every connection to ``127.0.0.1:backend_port``; ``on_chunk`` sees each chunk before it is sent.

    Nothing is simulated: the client talks to the real server through it. ``on_chunk`` returning False drops
    that chunk and closes the connection (both ways).
    """

    def __init__(self, backend_port: int) -> None:
        self.backend_port = backend_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def on_chunk(self, data: bytes, upstream: bool) -> bool:
        """Called for each chunk, ``upstream`` when it goes client -> server; False closes the connection."""
        return True

    def reply(self, data: bytes) -> bytes | None:
        """Bytes to answer a client chunk with instead of relaying it (the connection then closes)."""
        return None

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            backend = socket.create_connection(("127.0.0.1", self.backend_port), timeout=5)
        except OSError:
            client.close()
            return
        backend.settimeout(None)
        threading.Thread(target=self._pump, args=(backend, client, False), daemon=True).start()
        self._pump(client, backend, True)

    def _pump(self, source: socket.socket, target: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                if upstream and (answer := self.reply(data)) is not None:
                    source.sendall(answer)
                    break
                if not self.on_chunk(data, upstream):
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
