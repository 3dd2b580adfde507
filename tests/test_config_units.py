"""Unit converters (mec_marl.units) and validated configs (mec_marl.config) as cpdrl_v0 uses them."""

from __future__ import annotations

import math

import numpy as np
import pydantic
import pytest
import yaml

import mec_marl
from mec_marl import units
from mec_marl.config import SCENARIO_DIR, ConfigError, build_config, load_scenario, parse_overrides
from mec_marl.envs.cpdrl import CpdrlConfig


# ------------------------------------------------------------------- units
def test_data_size_constants():
    assert units.KB == 8 * 1024 == 8192
    assert units.MB == 8 * 1024**2 == 8_388_608
    assert units.KILOBIT == 1000
    assert units.MEGABIT == 1_000_000


@pytest.mark.parametrize(
    "func,value,expected",
    [
        (units.kilobytes, 1, 8192.0),
        (units.kilobytes, 200, 1_638_400.0),
        (units.megabytes, 1, 8_388_608.0),
        (units.megabytes, 0.5, 4_194_304.0),
        (units.gigahertz, 1.5, 1.5e9),
        (units.megahertz, 5, 5e6),
    ],
)
def test_linear_converters(func, value, expected):
    assert float(func(value)) == expected


def test_converters_are_vectorised():
    np.testing.assert_array_equal(units.kilobytes([200, 400]), [200 * 8192.0, 400 * 8192.0])
    np.testing.assert_array_equal(units.gigahertz(np.array([1, 2])), [1e9, 2e9])


@pytest.mark.parametrize("dbm,watt", [(30.0, 1.0), (0.0, 1e-3), (20.0, 0.1), (-174.0, 10 ** (-17.4) * 1e-3)])
def test_dbm_to_watt(dbm, watt):
    assert float(units.dbm_to_watt(dbm)) == pytest.approx(watt, rel=1e-12)
    assert float(units.watt_to_dbm(watt)) == pytest.approx(dbm, rel=1e-12, abs=1e-12)


def test_23_dbm_is_about_0_2_watt():
    assert float(units.dbm_to_watt(23)) == pytest.approx(0.19953, rel=1e-4)
    assert float(units.dbm_to_watt(23)) == pytest.approx(10**2.3 / 1000, rel=1e-12)


@pytest.mark.parametrize("dbm", [-120.0, -80.0, 0.0, 23.0, 46.0])
def test_dbm_watt_round_trip(dbm):
    assert float(units.watt_to_dbm(units.dbm_to_watt(dbm))) == pytest.approx(dbm, abs=1e-10)
    watt = 10 ** (dbm / 10) / 1000
    assert float(units.dbm_to_watt(units.watt_to_dbm(watt))) == pytest.approx(watt, rel=1e-12)


def test_db_linear_round_trip():
    assert float(units.db_to_linear(30)) == pytest.approx(1000.0)
    assert float(units.linear_to_db(units.db_to_linear(-17.5))) == pytest.approx(-17.5)


@pytest.mark.parametrize(
    "text,dimension,expected",
    [
        ("15 GHz", "Hz", 15e9),
        ("5 MHz", "Hz", 5e6),
        ("50 kHz", "Hz", 5e4),
        ("300 KB", "bits", 300 * 8192),
        ("1 MB", "bits", 8 * 1024**2),
        ("200 Kb", "bits", 200_000),
        ("2 Mb", "bits", 2_000_000),
        ("23 dBm", "W", 10**2.3 / 1000),
        ("100 mW", "W", 0.1),
        ("0.5 s", "s", 0.5),
        ("200 ms", "s", 0.2),
        ("1.5 km", "m", 1500),
        ("1e-13 W", "W", 1e-13),
        ("  750   cycles/bit ", "cycles/bit", 750),
        ("100 Mbps", "bits/s", 1e8),
        ("-3 dBm", "W", 10**-0.3 / 1000),
    ],
)
def test_quantity_strings(text, dimension, expected):
    assert units.to_si(text, dimension) == pytest.approx(expected, rel=1e-12)


def test_numbers_are_taken_as_si():
    assert units.to_si(5e6, "Hz") == 5e6
    assert units.to_si(np.float32(2.0), "W") == 2.0
    assert units.to_si(3, "bits") == 3.0


def test_parse_quantity():
    assert units.parse_quantity("15 GHz") == (15.0, "GHz")
    assert units.parse_quantity("1.0e-13 W") == (1e-13, "W")
    with pytest.raises(units.UnitError, match="<number> <unit>"):
        units.parse_quantity("GHz 15")


@pytest.mark.parametrize(
    "text,dimension,words",
    [
        ("5 KB", "Hz", ["'KB'", "bits", "Hz", "GHz"]),  # a data size for a frequency
        ("15 GHz", "bits", ["'GHz'", "Hz", "bits", "KB"]),
        ("23 dBm", "Hz", ["dBm", "power", "Hz"]),
        ("0.5 s", "W", ["'s'", "W"]),
    ],
)
def test_dimension_mismatch_is_an_error(text, dimension, words):
    with pytest.raises(units.UnitError) as err:
        units.to_si(text, dimension)
    for word in words:
        assert word in str(err.value)


def test_bad_quantities():
    with pytest.raises(units.UnitError, match="unknown unit 'furlongs'"):
        units.to_si("3 furlongs", "m")
    with pytest.raises(units.UnitError, match="boolean"):
        units.to_si(True, "Hz")
    with pytest.raises(units.UnitError):
        units.to_si([1, 2], "Hz")
    with pytest.raises(units.UnitError, match="not finite"):
        units.to_si("1e308 GHz", "Hz")
    assert issubclass(units.UnitError, ValueError)


# ------------------------------------------------------------------ config
def test_scenario_file_equals_the_defaults():
    """configs/scenarios/cpdrl.yaml is Table I in the paper's units; it must give the defaults."""
    raw = load_scenario("cpdrl")
    assert raw["env"] == "cpdrl_v0"
    assert raw["edge_capacity"] == "15 GHz" and raw["data_size_range"] == ["200 KB", "400 KB"]
    from_file = mec_marl.make("cpdrl_v0", scenario="cpdrl").config
    default = mec_marl.make("cpdrl_v0").config
    assert from_file == default
    assert from_file.model_dump() == CpdrlConfig().model_dump()
    # and the defaults are Table I in SI
    assert default.data_size_range == (200 * 8192.0, 400 * 8192.0)
    assert default.f_max_range == (1e9, 2e9)
    assert default.edge_capacity == 15e9 and default.bandwidth == 5e6
    assert default.noise_power == 1e-13 and default.deadline == 0.5 and default.p_max == 1.0
    assert default.kappa == 1e-28 and default.path_loss_exponent == -3.0
    assert default.cycles_per_bit_range == (500.0, 1000.0)
    assert default.area_side == 300.0 and default.n_devices == 6 and default.max_cycles == 50


def test_kilobit_scenario():
    cfg = mec_marl.make("cpdrl_v0", scenario="cpdrl_kilobit").config
    assert cfg.data_size_range == (200_000.0, 400_000.0)
    # everything else is Table I
    default = mec_marl.make("cpdrl_v0").config
    assert cfg.model_dump(exclude={"data_size_range"}) == default.model_dump(exclude={"data_size_range"})


def test_every_scenario_file_builds_its_env():
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        assert data["env"] in mec_marl.list_envs(), path.name
        env = mec_marl.make(data["env"], scenario=path.stem)
        assert env.config is not None


def test_key_value_overrides():
    env = mec_marl.make("cpdrl_v0", overrides=["n_devices=3", "edge_capacity=20 GHz"])
    assert env.config.n_devices == 3
    assert env.config.edge_capacity == 20e9
    assert env.action_space("scheduler").shape == (12,)
    assert env.observation_space("scheduler").shape == (18,)
    assert env.config.bandwidth == 5e6  # untouched keys keep their defaults


def test_override_precedence_and_ranges():
    # scenario <- overrides <- keyword arguments
    env = mec_marl.make(
        "cpdrl_v0", scenario="cpdrl_kilobit", overrides=["n_devices=4", "f_max_range=[1 GHz, 3 GHz]"], n_devices=5
    )
    assert env.config.n_devices == 5
    assert env.config.f_max_range == (1e9, 3e9)
    assert env.config.data_size_range == (200_000.0, 400_000.0)
    assert parse_overrides(["a.b=1 GHz", "c=[1, 2]", "d=x"]) == {"a": {"b": "1 GHz"}, "c": [1, 2], "d": "x"}


def test_unknown_key_names_it_and_lists_allowed():
    with pytest.raises(ConfigError) as err:
        mec_marl.make("cpdrl_v0", n_device=3)
    message = str(err.value)
    assert "'n_device'" in message
    assert "allowed keys" in message
    for key in ("n_devices", "edge_capacity", "bandwidth", "max_cycles"):
        assert key in message
    with pytest.raises(ConfigError, match="unknown config key.*'bogus'"):
        mec_marl.make("cpdrl_v0", overrides=["bogus.sub=1"])


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"n_devices": "many"}, ["'n_devices'", "integer"]),
        ({"n_devices": 2.5}, ["'n_devices'", "integer"]),
        ({"observation": "pixels"}, ["'observation'", "'full'", "'paper'"]),
        ({"bandwidth": "5 KB"}, ["'bandwidth'", "KB", "Hz"]),
        ({"bandwidth": True}, ["'bandwidth'", "boolean"]),
        ({"edge_capacity": "fast"}, ["'edge_capacity'", "<number> <unit>"]),
        ({"f_max_range": "1 GHz"}, ["'f_max_range'", "[low, high]"]),
        ({"f_max_range": "[2 GHz, 1 GHz]"}, ["'f_max_range'", "exceeds"]),
        ({"bandwidth_overuse": "drop"}, ["'bandwidth_overuse'", "'rescale'", "'execute'"]),
    ],
)
def test_wrong_type_names_the_key(kwargs, words):
    with pytest.raises(ConfigError) as err:
        mec_marl.make("cpdrl_v0", **kwargs)
    for word in words:
        assert word in str(err.value), f"{word!r} not in {err.value}"


def test_boolean_for_an_int_key_is_an_error():
    with pytest.raises(ConfigError, match="n_devices"):
        mec_marl.make("cpdrl_v0", n_devices=True)
    with pytest.raises(ConfigError, match="max_cycles.*boolean"):
        mec_marl.make("cpdrl_v0", max_cycles=False)


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"n_devices": 0}, ["'n_devices'", "greater than or equal to 1"]),
        ({"n_devices": 65}, ["'n_devices'", "less than or equal to 64"]),
        ({"bandwidth": -1}, ["'bandwidth'", "greater than or equal to 1000"]),
        ({"bandwidth": "-1 MHz"}, ["'bandwidth'", "greater than or equal to 1000"]),
        ({"bandwidth": "1e11 Hz"}, ["'bandwidth'", "less than or equal to 10000000000"]),
        ({"max_cycles": 0}, ["'max_cycles'", "greater than or equal to 1"]),
        ({"min_resource_fraction": 1.0}, ["'min_resource_fraction'", "less than or equal to 0.5"]),
        ({"min_resource_fraction": 1e-300}, ["'min_resource_fraction'", "greater than or equal to 0.000001"]),
        ({"path_loss_exponent": 3}, ["'path_loss_exponent'", "less than or equal to -1"]),
        ({"noise_power": 1e300}, ["'noise_power'", "less than or equal to 0.001"]),
        ({"kappa": 1e300}, ["'kappa'", "less than or equal to"]),
        ({"data_size_range": [0, 100]}, ["data_size_range", "within [1, 1e+10]"]),
        ({"f_max_range": [1e9, 1e13]}, ["f_max_range", "within"]),
        ({"bandwidth": float("inf")}, ["'bandwidth'", "finite"]),
        ({"kappa": float("nan")}, ["'kappa'", "finite"]),
        ({"f_max_range": (float("nan"), 1e9)}, ["'f_max_range'", "finite"]),
    ],
)
def test_out_of_range_names_the_key_and_bound(kwargs, words):
    with pytest.raises(ConfigError) as err:
        mec_marl.make("cpdrl_v0", **kwargs)
    for word in words:
        assert word in str(err.value), f"{word!r} not in {err.value}"


def test_unknown_scenario_lists_known_ones():
    with pytest.raises(ConfigError) as err:
        mec_marl.make("cpdrl_v0", scenario="cpdrl_megabit")
    message = str(err.value)
    assert "'cpdrl_megabit'" in message
    assert "cpdrl" in message and "cpdrl_kilobit" in message


def test_scenario_for_another_env_is_refused(tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text("env: smart_community_v0\nn_devices: 3\n")
    with pytest.raises(ConfigError, match="is for env 'smart_community_v0', not 'cpdrl_v0'"):
        mec_marl.make("cpdrl_v0", scenario=str(path))
    # a file tagged for cpdrl_v0 is accepted: the refusal is about the tag
    ok = tmp_path / "mine.yaml"
    ok.write_text("env: cpdrl_v0\nn_devices: 3\nbandwidth: 10 MHz\n")
    cfg = mec_marl.make("cpdrl_v0", scenario=str(ok)).config
    assert cfg.n_devices == 3 and cfg.bandwidth == 1e7


def test_configs_are_frozen():
    env = mec_marl.make("cpdrl_v0", n_devices=4)
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        env.config.n_devices = 5
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        env.config.bandwidth = 1.0
    assert env.config.n_devices == 4 and env.config.bandwidth == 5e6
    assert hash(env.config) == hash(mec_marl.make("cpdrl_v0", n_devices=4).config)


def test_replace_builds_a_validated_copy():
    cfg = CpdrlConfig()
    other = cfg.replace(n_devices=3, edge_capacity="20 GHz")
    assert other.n_devices == 3 and other.edge_capacity == 20e9
    assert cfg.n_devices == 6 and cfg.edge_capacity == 15e9
    with pytest.raises(ConfigError, match="'n_devices'"):
        cfg.replace(n_devices=0)
    with pytest.raises(ConfigError, match="'nope'"):
        cfg.replace(nope=1)


def test_build_config_directly_and_bad_override_syntax():
    cfg = build_config(CpdrlConfig, overrides=["deadline=200 ms", "noise_power=-100 dBm"])
    assert cfg.deadline == pytest.approx(0.2)
    assert cfg.noise_power == pytest.approx(1e-13, rel=1e-12)
    with pytest.raises(ConfigError, match="key=value"):
        build_config(CpdrlConfig, overrides=["n_devices"])
    with pytest.raises(ConfigError, match="empty key"):
        build_config(CpdrlConfig, overrides=["=3"])
    assert issubclass(ConfigError, ValueError)
    assert math.isclose(build_config(CpdrlConfig, overrides=["p_max=23 dBm"]).p_max, 0.19953, rel_tol=1e-4)


def test_bare_number_strings_are_si():
    # YAML 1.1 reads 25e6 as a string: "--set bandwidth=25e6" must still mean 25 MHz.
    env = mec_marl.make("cpdrl_v0", overrides=["bandwidth=25e6"])
    assert env.config.bandwidth == 25e6
    with pytest.raises(ConfigError, match="bandwidth"):
        mec_marl.make("cpdrl_v0", overrides=["bandwidth=nan"])
