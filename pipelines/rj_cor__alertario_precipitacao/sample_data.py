"""Generated AlertaRio rain-gauge readings shaped like the AlertaRio API, messy on purpose.

Station ids come as numbers, plain or zero-padded text; amounts as numbers, text with a decimal point or
comma, with "mm", or "ND"/empty when the gauge sent nothing. A few records are bad on purpose.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Final

STATIONS: Final = (
    "Vidigal",
    "Urca",
    "Rocinha",
    "Tijuca",
    "Santa Teresa",
    "Copacabana",
    "Grajaú",
    "Ilha do Governador",
    "Penha",
    "Madureira",
    "Irajá",
    "Bangu",
    "Piedade",
    "Jacarepaguá/Tanque",
    "Saúde",
    "Jardim Botânico",
    "Barra/Barrinha",
    "Jacarepaguá/Cidade de Deus",
    "Barra/Riocentro",
    "Guaratiba",
    "Est. Grajaú/Jacarepaguá",
    "Santa Cruz",
    "Grande Méier",
    "Anchieta",
    "Grota Funda",
    "Campo Grande",
    "Sepetiba",
    "Alto da Boa Vista",
    "Av. Brasil/Mendanha",
    "Recreio",
    "Laranjeiras",
    "São Cristóvão",
    "Tijuca/Muda",
)
AMOUNT_KEYS: Final = ("m15", "h01", "h04", "h24", "h96")
# Bad records appended to every sample: counted by reason when the pipeline validates them.
SAMPLE_BAD_RECORDS: Final = {
    "missing_station_id": 1,
    "invalid_station_id": 1,
    "future_timestamp": 1,
    "duplicate": 1,
}
# Amounts that are present but not valid (stored as null and counted).
SAMPLE_INVALID_AMOUNTS: Final = 2


def _station_id(rng: random.Random, number: int) -> Any:
    return rng.choice((number, str(number), f"{number:02d}", f" {number} "))


def _amount(rng: random.Random, value: float) -> Any:
    return rng.choice(
        (value, f"{value:.1f}", f"{value:.1f}".replace(".", ","), f"{value:.1f}mm", f"{value:.1f} mm")
    )


def _reading(rng: random.Random, number: int, measured_at: datetime) -> dict[str, Any]:
    m15 = round(rng.choice((0.0, 0.0, 0.0, 0.2, 0.4, 1.2, 3.6)), 1)
    amounts = [m15]
    for factor in (2.5, 6.0, 15.0, 40.0):
        amounts.append(round(amounts[-1] + m15 * factor + rng.choice((0.0, 0.2, 0.6)), 1))
    data = {key: _amount(rng, value) for key, value in zip(AMOUNT_KEYS, amounts, strict=True)}
    if rng.random() < 0.1:
        data[rng.choice(AMOUNT_KEYS)] = rng.choice(("ND", "", None, "-"))
    return {
        "id_estacao": _station_id(rng, number),
        "estacao": STATIONS[number - 1],
        "data_medicao": measured_at.isoformat(),
        "chuva": data,
    }


def generate_readings(captured_at: datetime) -> dict[str, Any]:
    """The API payload at ``captured_at`` (aware): each station's reading of the latest 15-minute slot."""
    slot = captured_at.replace(minute=captured_at.minute - captured_at.minute % 15, second=0, microsecond=0)
    rng = random.Random(int(slot.timestamp()))
    readings = [_reading(rng, number, slot) for number in range(1, len(STATIONS) + 1)]
    readings[4]["chuva"]["h96"] = "-0.4"
    readings[5]["chuva"]["h24"] = "erro"
    missing_id = _reading(rng, 1, slot)
    missing_id["id_estacao"] = None
    invalid_id = _reading(rng, 2, slot)
    invalid_id["id_estacao"] = "X9"
    future = _reading(rng, 3, slot + timedelta(hours=2))
    duplicate = dict(readings[0])
    return {"objects": [*readings, missing_id, invalid_id, future, duplicate]}
