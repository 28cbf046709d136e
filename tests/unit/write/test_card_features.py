"""The card's features for columns with a Hub feature: `datasets`' YAML form, and an append written without the
feature (an engine that lost it) keeps the one the card declares while the column's type still fits it."""

from __future__ import annotations

import pyarrow as pa
import yaml

from hfconnect.features import MEDIA_STORAGE, with_features
from hfconnect.write.card import split_card, update_card


def _card_features(readme: str) -> list:
    meta, _ = split_card(readme)
    return meta["dataset_info"]["features"]


def _card(schema: pa.Schema, readme: str | None = None) -> str:
    return update_card(readme, config="default", split="train", data_dir="data", schema=schema, num_rows=2,
                       splits_present=["train"])


def test_media_and_labels_in_the_card() -> None:
    schema = with_features(pa.schema([("img", pa.binary()), ("y", pa.int64())]),
                           {"img": {"_type": "Image"}, "y": {"_type": "ClassLabel", "names": ["a", "b"]}})
    assert _card_features(_card(schema)) == [
        {"name": "img", "dtype": "image"}, {"name": "y", "dtype": {"class_label": {"names": {"0": "a", "1": "b"}}}}]
    assert "'0': a" in _card(schema)  # keys as strings, as the Hub requires
    yaml.safe_load(_card(schema).split("---")[1])


def test_an_append_without_the_feature_keeps_the_cards_while_the_type_fits() -> None:
    first = _card(with_features(pa.schema([("img", pa.binary()), ("y", pa.int32())]),
                                {"img": {"_type": "Image"}, "y": {"_type": "ClassLabel", "names": ["a"]}}))
    plain = pa.schema([("img", MEDIA_STORAGE), ("y", pa.int32())])  # e.g. what Daft read from those files
    assert [e.get("dtype") for e in _card_features(_card(plain, first))] == [
        "image", {"class_label": {"names": {"0": "a"}}}]
    changed = pa.schema([("img", pa.string()), ("y", pa.string())])
    assert _card_features(_card(changed, first)) == [{"name": "img", "dtype": "string"},
                                                     {"name": "y", "dtype": "string"}]
