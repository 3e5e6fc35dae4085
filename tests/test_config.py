"""Settings come from defaults, a TOML file, env vars and overrides, in that order."""

import re
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError


def test_env_vars_override_the_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "newsbot.toml"
    config.write_text('top_k = 5\nretriever = "bm25"\ncorpus_dir = "articles"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSBOT_TOP_K", "7")
    settings = load_settings()
    assert settings.top_k == 7
    assert settings.retriever == "bm25"
    assert settings.corpus_dir == tmp_path / "articles"


def test_short_env_names_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBOT_CORPUS", str(tmp_path / "c"))
    monkeypatch.setenv("NEWSBOT_INDEX", str(tmp_path / "i"))
    settings = load_settings(index_dir=tmp_path / "other")
    assert settings.corpus_dir == tmp_path / "c"
    assert settings.index_dir == tmp_path / "other"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NEWSBOT_TOP_K", "many", "must be of type int"),
        ("NEWSBOT_RETRIEVER", "magic", "dense, bm25 or hybrid"),
        ("NEWSBOT_CHUNK_OVERLAP", "9", "chunk_overlap"),
    ],
)
def test_invalid_values_are_config_errors(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_broken_toml_and_unknown_keys_are_config_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("top_k = = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("colour = 'red'")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(unknown)


def test_a_toml_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    config = tmp_path / "newsbot.toml"
    config.write_bytes(b"\xef\xbb\xbftop_k = 1\n")  # Notepad's UTF-8
    assert load_settings(config).top_k == 1


def test_settings_serialise_to_json() -> None:
    data = Settings().to_json()
    assert isinstance(data["corpus_dir"], str)
    assert data["chunk_sentences"] == Settings().chunk_sentences


def test_start_examples_from_the_environment_and_toml(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSBOT_START_EXAMPLES", "Who is Ryan Ding? | What is the NCSC?|")
    assert load_settings().start_examples == ("Who is Ryan Ding?", "What is the NCSC?")
    monkeypatch.delenv("NEWSBOT_START_EXAMPLES")
    config = tmp_path / "newsbot.toml"
    config.write_text('start_examples = ["Who leads New Zealand?"]')
    assert load_settings(config).start_examples == ("Who leads New Zealand?",)
    config.write_text("start_examples = [1, 2]")
    with pytest.raises(ConfigError, match="must be a list of questions"):
        load_settings(config)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("top_k = true", "setting 'top_k' must be of type int, got True"),
        ("min_confidence = true", "setting 'min_confidence' must be of type float, got True"),
        ('index_dir = ""', "setting 'index_dir' must be a path, got ''"),
        ('feeds_refresh = "99999999999h"', "setting 'feeds_refresh' must be at most a week"),
    ],
)
def test_values_of_the_wrong_kind_in_toml_are_config_errors(
    tmp_path: Path, line: str, message: str
) -> None:
    config = tmp_path / "newsbot.toml"
    config.write_text(line + "\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(config)
    config.write_text("min_confidence = 0.3\ntop_k = 5\n")  # the right kinds still load
    assert (load_settings(config).min_confidence, load_settings(config).top_k) == (0.3, 5)
