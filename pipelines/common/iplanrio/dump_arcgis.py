"""``pipelines_templates.dump_arcgis``: every feature of an ArcGIS REST layer as one CSV file for the upload.

The layer is read with paged ``query`` requests (``f=json``, ``resultOffset`` while the server answers
``exceededTransferLimit``). ``crs`` names the layer's own reference, as in the city's calls; the server
projects the geometries to WGS 84 itself (``outSR=4326``), so the file holds longitude and latitude, as the
city's did: ``latitude``/``longitude`` columns for points and every geometry as WKT in ``geometry``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

import pandas as pd
from prefect import task

from pipelines.common.http import fetch_json
from pipelines.common.iplanrio.logging import log
from pipelines.common.iplanrio.pandas import remove_columns_accents

OUTPUT_WKID: Final = 4326
CRS_PATTERN: Final = re.compile(r"(?:EPSG:)?(\d+)", re.IGNORECASE)
Point = Sequence[float]


class ArcGISError(ValueError):
    """A layer or an argument the download cannot serve; the message says what to change."""


@task
def download_data_from_arcgis_task(url: str, crs: str) -> Path:
    return download_data_from_arcgis(url=url, crs=crs)


def download_data_from_arcgis(url: str, crs: str) -> Path:
    """Downloads the layer at ``url`` (``.../FeatureServer/<n>`` or its ``/query``) into ``<dir>/data.csv``
    and returns the directory."""
    match = CRS_PATTERN.fullmatch(crs.strip())
    if match is None:
        raise ArcGISError(f"crs {crs!r} is not an EPSG code: write it as 'EPSG:<number>', e.g. 'EPSG:3857'")
    query_url = url.rstrip("/")
    if not query_url.endswith("/query"):
        query_url += "/query"
    log(f"Using url:\n{query_url}\nlayer reference EPSG:{match.group(1)}, written as EPSG:{OUTPUT_WKID}")
    rows = [feature_row(feature) for feature in features(query_url)]
    if not rows:
        raise ArcGISError(f"{query_url}: the layer returned no feature")
    dataframe = pd.DataFrame(rows)
    dataframe.columns = pd.Index(remove_columns_accents(dataframe))
    directory = Path(tempfile.mkdtemp(prefix="dump_arcgis-"))
    dataframe.to_csv(directory / "data.csv", index=False)
    log(f"{len(rows)} rows saved in {directory}/data.csv")
    return directory


def features(query_url: str) -> Iterator[Mapping[str, Any]]:
    """Every feature of the layer, page after page."""
    offset = 0
    pages = 0
    while True:
        params = {
            "where": "1=1",
            "outFields": "*",
            "returnGeometry": "true",
            "outSR": str(OUTPUT_WKID),
            "f": "json",
            "resultOffset": str(offset),
        }
        page = fetch_json(query_url, params=params)
        if not isinstance(page, dict):
            raise ArcGISError(f"{query_url}: the answer is not an ArcGIS query result")
        if "error" in page:
            error = page["error"]
            raise ArcGISError(f"{query_url}: the server refused the query: {error.get('message')} {error}")
        reference = page.get("spatialReference") or {}
        if page.get("features") and OUTPUT_WKID not in (reference.get("wkid"), reference.get("latestWkid")):
            raise ArcGISError(
                f"{query_url}: the server did not project to EPSG:{OUTPUT_WKID} (answered {reference})"
            )
        page_features = page.get("features") or []
        yield from page_features
        pages += 1
        offset += len(page_features)
        log(f"Page {pages}: {len(page_features)} rows")
        if not page_features or not page.get("exceededTransferLimit", False):
            return


def feature_row(feature: Mapping[str, Any]) -> dict[str, Any]:
    """The feature's attributes, then ``latitude``/``longitude`` for a point, then ``geometry`` as WKT."""
    row = dict(feature.get("attributes") or {})
    geometry = feature.get("geometry") or {}
    if isinstance(geometry.get("x"), int | float) and isinstance(geometry.get("y"), int | float):
        row["latitude"] = geometry["y"]
        row["longitude"] = geometry["x"]
    row["geometry"] = wkt(geometry)
    return row


def wkt(geometry: Mapping[str, Any]) -> str | None:
    """An ArcGIS JSON geometry as WKT; ``None`` for a feature without geometry."""
    if isinstance(geometry.get("x"), int | float) and isinstance(geometry.get("y"), int | float):
        return f"POINT ({_coordinates([geometry['x'], geometry['y']])})"
    if geometry.get("points"):
        return f"MULTIPOINT ({_sequence(geometry['points'])})"
    if geometry.get("paths"):
        paths = [f"({_sequence(path)})" for path in geometry["paths"]]
        return f"LINESTRING {paths[0]}" if len(paths) == 1 else f"MULTILINESTRING ({', '.join(paths)})"
    if geometry.get("rings"):
        polygons = [
            f"({', '.join(f'({_sequence(ring)})' for ring in rings)})" for rings in _polygons(geometry)
        ]
        return f"POLYGON {polygons[0]}" if len(polygons) == 1 else f"MULTIPOLYGON ({', '.join(polygons)})"
    return None


def _polygons(geometry: Mapping[str, Any]) -> list[list[Sequence[Point]]]:
    """ArcGIS lists every ring of a polygon together: a clockwise ring starts a polygon, a counter-clockwise
    ring is a hole of the polygon before it."""
    polygons: list[list[Sequence[Point]]] = []
    for ring in geometry["rings"]:
        if polygons and _signed_area(ring) > 0:
            polygons[-1].append(ring)
        else:
            polygons.append([ring])
    return polygons


def _signed_area(ring: Sequence[Point]) -> float:
    """Positive for a counter-clockwise ring (shoelace formula)."""
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in pairwise(ring)) / 2


def _sequence(points: Sequence[Point]) -> str:
    return ", ".join(_coordinates(point) for point in points)


def _coordinates(point: Point) -> str:
    return " ".join(_number(value) for value in point[:2])


def _number(value: float) -> str:
    text = repr(float(value))
    return text.removesuffix(".0")
