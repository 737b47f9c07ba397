from __future__ import annotations

import json
from pathlib import Path

from image_layers import distribution_key, keep_lacking_distributions


def test_a_wheel_and_its_installed_dist_info_have_the_same_key() -> None:
    wheel = "python_dateutil-2.9.0.post0-py2.py3-none-any.whl"
    assert distribution_key(wheel) == distribution_key("python_dateutil-2.9.0.post0.dist-info")
    assert distribution_key("PyYAML-6.0.4.dist-info") == ("pyyaml", "6.0.4")
    assert distribution_key("jsonschema_specifications-2025.9.1.dist-info") == (
        "jsonschema-specifications",
        "2025.9.1",
    )
    assert distribution_key("pyarrow-26.0.1-cp313-cp313-manylinux_2_28_x86_64.whl") != distribution_key(
        "pyarrow-26.0.2.dist-info"
    )


def test_the_pex_keeps_only_what_the_base_lacks_each_pinned_as_a_root(tmp_path: Path) -> None:
    pex = tmp_path / "deps.pex"
    pex.mkdir()
    info = {
        "distributions": {
            "prefect-3.9.1-py3-none-any.whl": "a" * 40,
            "pyarrow-26.0.1-cp313-cp313-manylinux_2_28_x86_64.whl": "b" * 40,
            "python_dateutil-2.9.0.post0-py2.py3-none-any.whl": "c" * 40,
        },
        "requirements": ["prefect==3.9.1", "pyarrow==26.0.1"],
        "ignore_errors": False,
        "venv": True,
    }
    (pex / "PEX-INFO").write_text(json.dumps(info))
    base = {
        distribution_key(name)
        for name in ("prefect-3.9.1.dist-info", "python_dateutil-2.9.0.post0.dist-info")
    }

    keep_lacking_distributions(pex, base)

    kept = json.loads((pex / "PEX-INFO").read_text())
    assert kept["distributions"] == {"pyarrow-26.0.1-cp313-cp313-manylinux_2_28_x86_64.whl": "b" * 40}
    assert kept["requirements"] == ["pyarrow==26.0.1"]
    assert kept["ignore_errors"] is True
    assert kept["venv"] is True
