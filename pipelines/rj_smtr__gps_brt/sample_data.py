"""Generated BRT GPS positions shaped like the SMTR BRT API, with a few bad records on purpose."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Final

LINES: Final = ("10", "11", "12", "13", "17", "18", "20", "22", "25", "35", "38", "41", "42", "50", "53")
SAMPLE_VEHICLES: Final = 40
# Bad records appended to every sample: counted by reason when the pipeline validates them.
SAMPLE_BAD_RECORDS: Final = {"missing_vehicle_id": 2, "outside_rio": 1, "future_timestamp": 1}


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _vehicle(rng: random.Random, codigo: str | None, moment: datetime) -> dict[str, Any]:
    return {
        "codigo": codigo,
        "placa": f"L{rng.choice('ABCKPT')}{rng.choice('ABCDEFGHIJ')}{rng.randrange(10)}"
        f"{rng.choice('ABCDEFGHIJ')}{rng.randrange(10):02d}",
        "linha": rng.choice(LINES),
        "latitude": round(rng.uniform(-23.02, -22.82), 6),
        "longitude": round(rng.uniform(-43.65, -43.20), 6),
        "dataHora": _epoch_ms(moment),
        "velocidade": rng.randrange(0, 80),
        "sentido": rng.choice(("ida", "volta")),
        "trajeto": None,
    }


def generate_positions(captured_at: datetime, vehicles: int = SAMPLE_VEHICLES) -> dict[str, Any]:
    """The API payload for a capture at ``captured_at`` (aware): positions of the five minutes before it.

    The same for every capture within one minute, like a source replayed for that minute.
    """
    minute = captured_at.replace(second=0, microsecond=0)
    rng = random.Random(int(minute.timestamp()) // 60)
    records = [
        _vehicle(rng, f"{40000 + number}", minute - timedelta(seconds=rng.randrange(1, 300)))
        for number in range(vehicles)
    ]
    recent = minute - timedelta(seconds=30)
    records.append(_vehicle(rng, None, recent))
    records.append(_vehicle(rng, "  ", recent))
    outside = _vehicle(rng, "49998", recent)
    outside.update(latitude=0.0, longitude=0.0)
    records.append(outside)
    records.append(_vehicle(rng, "49999", minute + timedelta(hours=1)))
    return {"veiculos": records}
