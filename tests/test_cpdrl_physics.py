"""cpdrl_v0 physics against hand-computed values of the CPDRL paper's eq. (1)-(11), (15)-(17).

Every expected value below is written out with plain Python ``math`` from the
paper's equations (CPDRL paper) and Table I, never by
calling ``mec_marl.physics``; the env is driven through pinned instances
(``reset(options={"instance": ...})``) and its ``infos`` / rewards /
observations are compared with them.

Table I defaults used throughout: B = 5 MHz, sigma^2 = 1e-13 W, tau = 0.5 s,
P_max = 1 W, kappa = 1e-28, F = 15 GHz, lambda1 = lambda2 = 1, path loss -3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mec_marl
from mec_marl.envs.cpdrl import CpdrlInstance, decode_action, encode_action

B = 5e6
SIGMA2 = 1e-13
TAU = 0.5
P_MAX = 1.0
KAPPA = 1e-28
F_EDGE = 15e9
SIDE = 300.0
CENTRE = (SIDE / 2, SIDE / 2)
AGENT = "scheduler"

# Three UTDs at 50, 100 and 150 m from the server (3-4-5 triangles).
POSITIONS = [(200.0, 150.0), (150.0, 250.0), (60.0, 30.0)]
DATA = [1.6e6, 2.4e6, 3.2e6]  # bits
CPB = [500.0, 750.0, 1000.0]  # cycles/bit
FMAX = [1.2e9, 1.5e9, 2.0e9]  # Hz


def pinned(positions=POSITIONS, data=DATA, cpb=CPB, fmax=FMAX, exponent=-3.0, d_min=1.0) -> CpdrlInstance:
    """A hand-built instance; gains by eq. (4) g = max(d, d_min)^alpha."""
    dist = [math.hypot(x - CENTRE[0], y - CENTRE[1]) for x, y in positions]
    return CpdrlInstance(
        position=np.array(positions, dtype=float),
        server_position=np.array(CENTRE),
        distance=np.array(dist),
        gain=np.array([max(d, d_min) ** exponent for d in dist]),
        data_size=np.array(data, dtype=float),
        cycles_per_bit=np.array(cpb, dtype=float),
        f_max=np.array(fmax, dtype=float),
    )


def run(action, instance=None, **config):
    """One step of cpdrl_v0 on a pinned instance; returns (reward, info, obs, env)."""
    instance = instance or pinned()
    config.setdefault("n_devices", instance.n)
    env = mec_marl.make("cpdrl_v0", **config)
    env.reset(seed=0, options={"instance": instance})
    obs, rewards, _, _, infos = env.step({AGENT: np.asarray(action, dtype=np.float32)})
    return rewards[AGENT], infos[AGENT], obs[AGENT], env


def action(a, b, f, p):
    return np.array([*a, *b, *f, *p], dtype=np.float32)


def scale(raw, top):
    """[-1, 1] -> [0, top] (the env scales b, f, p this way)."""
    return (float(np.float32(raw)) + 1.0) / 2.0 * top


# ---- hand formulas (paper eq. 1-9), plain Python --------------------------------
def local_delay(d, c, f):  # eq. (1)
    return d * c / f


def local_energy(d, c, f):  # eq. (2)
    return KAPPA * d * c * f**2


def rate(b, p, g):  # eq. (3): b log2(1 + p g / sigma^2)
    return b * math.log2(1.0 + p * g / SIGMA2)


def edge_delay(d, c, k):  # eq. (7): D C sum(a) / F
    return d * c * k / F_EDGE


def gain(i):  # eq. (4) for the pinned UTD i
    x, y = POSITIONS[i]
    return math.hypot(x - CENTRE[0], y - CENTRE[1]) ** -3


# The reference action: UTD0 local at f = f_max/2; UTD1 and UTD2 offload
# (b = B/2, p = 0.75 W and b = B/4, p = 1 W).
A_RAW = [-0.7, 0.3, 0.9]
B_RAW = [0.2, 0.0, -0.5]
F_RAW = [0.0, 0.4, -0.2]
P_RAW = [0.6, 0.5, 1.0]
REFERENCE = action(A_RAW, B_RAW, F_RAW, P_RAW)


def reference_outcome():
    """T_n, E_n of REFERENCE by hand (eq. 1-9), two offloaders sharing F."""
    f0 = scale(F_RAW[0], FMAX[0])
    t0, e0 = local_delay(DATA[0], CPB[0], f0), local_energy(DATA[0], CPB[0], f0)
    out_t, out_e = [t0], [e0]
    for i in (1, 2):
        b, p = scale(B_RAW[i], B), scale(P_RAW[i], P_MAX)
        t_up = DATA[i] / rate(b, p, gain(i))  # eq. (5)
        out_t.append(t_up + edge_delay(DATA[i], CPB[i], 2))  # eq. (8)
        out_e.append(p * t_up)  # eq. (6), (9)
    return out_t, out_e


# ------------------------------------------------------------------ eq. (1)-(2)
def test_local_delay_and_energy_eq1_eq2():
    _, info, _, _ = run(REFERENCE)
    f0 = 0.5 * FMAX[0]
    assert info["cpu_freq"][0] == pytest.approx(f0, rel=1e-7)
    assert info["offload"][0] == 0
    # T = D C / f = 1.6e6 * 500 / 6e8 = 4/3 s; E = kappa D C f^2 = 1e-28 * 8e8 * 3.6e17 = 0.0288 J
    assert info["latency"][0] == pytest.approx(4 / 3, rel=1e-9)
    assert info["energy"][0] == pytest.approx(0.0288, rel=1e-9)
    assert info["latency"][0] == pytest.approx(local_delay(DATA[0], CPB[0], f0), rel=1e-9)
    assert info["energy"][0] == pytest.approx(local_energy(DATA[0], CPB[0], f0), rel=1e-9)


@pytest.mark.parametrize("f_raw", [-0.5, 0.3, 1.0])
def test_local_energy_is_quadratic_in_frequency(f_raw):
    a = action([-1, -1, -1], [-1, -1, -1], [f_raw] * 3, [-1, -1, -1])
    _, info, _, _ = run(a)
    for i in range(3):
        f = scale(f_raw, FMAX[i])
        assert info["latency"][i] == pytest.approx(DATA[i] * CPB[i] / f, rel=1e-7)
        assert info["energy"][i] == pytest.approx(1e-28 * DATA[i] * CPB[i] * f * f, rel=1e-6)
        assert info["edge_cpu"][i] == 0.0 and info["bandwidth"][i] == 0.0 and info["power"][i] == 0.0


# ------------------------------------------------------------- eq. (3)-(8)
def test_upload_rate_delay_and_energy_eq3_eq5_eq6():
    _, info, _, _ = run(REFERENCE)
    # UTD1: d = 100 m, g = 1e-6, b = 2.5 MHz, p = 0.75 W
    r1 = 2.5e6 * math.log2(1 + 0.75 * 1e-6 / 1e-13)
    t_up1 = 2.4e6 / r1
    assert info["bandwidth"][1] == pytest.approx(2.5e6, rel=1e-7)
    assert info["power"][1] == pytest.approx(0.75, rel=1e-7)
    assert info["energy"][1] == pytest.approx(0.75 * t_up1, rel=1e-7)  # E^t = p D / R
    # UTD2: d = 150 m, g = 150^-3, b = 1.25 MHz, p = 1 W
    t_up2 = 3.2e6 / (1.25e6 * math.log2(1 + 1.0 * 150.0**-3 / 1e-13))
    assert info["energy"][2] == pytest.approx(1.0 * t_up2, rel=1e-7)
    # log2, not ln nor log10: the rate with ln would make E 1/ln(2) times larger
    assert info["energy"][1] != pytest.approx(0.75 * 2.4e6 / (2.5e6 * math.log(1 + 7.5e6)), rel=1e-3)


def test_edge_delay_eq7_and_total_delay_eq8():
    _, info, _, _ = run(REFERENCE)
    _, expected_e = reference_outcome()
    # edge share F / 2 with two offloaders
    assert list(info["edge_cpu"]) == pytest.approx([0.0, 7.5e9, 7.5e9], rel=1e-12)
    # UTD1: T = D / R + D C 2 / F = t_up + 2.4e6 * 750 * 2 / 15e9 = t_up + 0.24 s
    t_up1 = expected_e[1] / 0.75
    assert info["latency"][1] == pytest.approx(t_up1 + 0.24, rel=1e-7)
    t_up2 = expected_e[2] / 1.0
    assert info["latency"][2] == pytest.approx(t_up2 + 3.2e6 * 1000 * 2 / 15e9, rel=1e-7)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_edge_delay_grows_with_the_number_of_offloaders(k):
    """eq. (7): the server's F is split equally among the k offloaders."""
    a_raw = [1.0] * k + [-1.0] * (3 - k)
    a = action(a_raw, [-1 / 3] * 3, [0.0] * 3, [1.0] * 3)  # b = B/3 each, p = P_max
    _, info, _, _ = run(a)
    for i in range(3):
        if i < k:
            b = B / 3
            t_up = DATA[i] / (b * math.log2(1 + P_MAX * gain(i) / SIGMA2))
            assert info["edge_cpu"][i] == pytest.approx(F_EDGE / k, rel=1e-12)
            assert info["latency"][i] == pytest.approx(t_up + DATA[i] * CPB[i] * k / F_EDGE, rel=1e-6)
            assert info["energy"][i] == pytest.approx(P_MAX * t_up, rel=1e-6)  # eq. (9): no edge energy
        else:
            assert info["edge_cpu"][i] == 0.0
            assert info["latency"][i] == pytest.approx(DATA[i] * CPB[i] / (FMAX[i] / 2), rel=1e-7)


# --------------------------------------------------------- eq. (10), (17)
def test_objective_and_reward_eq10_eq17():
    reward, info, _, _ = run(REFERENCE)
    t, e = reference_outcome()
    objective = sum(t) + sum(e)
    tardiness = sum(max(0.0, x - TAU) for x in t)
    assert tardiness > 0.8  # UTD0 is 0.83 s late, UTD2 a little
    assert t[2] > TAU and t[1] < TAU
    assert list(info["latency"]) == pytest.approx(t, rel=1e-7)
    assert list(info["energy"]) == pytest.approx(e, rel=1e-7)
    assert info["objective"] == pytest.approx(objective, rel=1e-7)
    assert list(info["deadline_violation"]) == pytest.approx([max(0.0, x - TAU) for x in t], rel=1e-6, abs=1e-12)
    assert list(info["success"]) == [x <= TAU for x in t]
    assert info["bandwidth_overuse"] == 0.0  # B/2 + B/4 <= B
    assert list(info["consistent"]) == [True, True, True]
    # r = -sum(l1 T + l2 E) - sum max(0, T - tau) - max(0, sum b / B - 1) + #consistent / n
    assert reward == pytest.approx(-objective - tardiness - 0.0 + 3 / 3, rel=1e-7)
    assert info["penalised_cost"] == pytest.approx(objective + tardiness, rel=1e-7)


def test_non_default_parameters_enter_every_formula():
    """Table I's values are config, not constants: change them all and recompute by hand."""
    cfg = dict(bandwidth=8e6, noise_power=4e-13, deadline=0.3, p_max=0.5, kappa=3e-28, edge_capacity=20e9)
    reward, info, _, _ = run(REFERENCE, **cfg)
    f0 = scale(F_RAW[0], FMAX[0])
    t = [DATA[0] * CPB[0] / f0]
    e = [3e-28 * DATA[0] * CPB[0] * f0**2]
    for i in (1, 2):
        b, p = scale(B_RAW[i], 8e6), scale(P_RAW[i], 0.5)
        t_up = DATA[i] / (b * math.log2(1 + p * gain(i) / 4e-13))
        t.append(t_up + DATA[i] * CPB[i] * 2 / 20e9)
        e.append(p * t_up)
        assert info["bandwidth"][i] == pytest.approx(b, rel=1e-7)
        assert info["power"][i] == pytest.approx(p, rel=1e-7)
        assert info["edge_cpu"][i] == pytest.approx(10e9, rel=1e-12)
    assert list(info["latency"]) == pytest.approx(t, rel=1e-7)
    assert list(info["energy"]) == pytest.approx(e, rel=1e-7)
    tardiness = sum(max(0.0, x - 0.3) for x in t)
    assert list(info["success"]) == [x <= 0.3 for x in t]
    assert reward == pytest.approx(-(sum(t) + sum(e)) - tardiness + 1.0, rel=1e-7)


def test_reward_weights():
    w = dict(latency_weight=2.0, energy_weight=3.0, tardiness_weight=0.5, bandwidth_penalty_weight=4.0,
             consistency_bonus_weight=0.25)
    # UTD0 local (its b is masked to 0), UTD1 and UTD2 request b = B each: sum b / B - 1 = 1
    a = action([-1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    reward, info, _, _ = run(a, **w)
    t, e = list(info["latency"]), list(info["energy"])
    objective = sum(2.0 * ti + 3.0 * ei for ti, ei in zip(t, e))
    tardiness = sum(max(0.0, ti - TAU) for ti in t)
    assert info["objective"] == pytest.approx(objective, rel=1e-12)
    assert info["bandwidth_overuse"] == pytest.approx(1.0, rel=1e-7)  # (B + B) / B - 1
    assert reward == pytest.approx(-objective - 0.5 * tardiness - 4.0 * 1.0 + 0.25 * 3 / 3, rel=1e-9)


# ------------------------------------------------------------------- eq. (15)
@pytest.mark.parametrize("beta", [0.1, 1.0, 50.0])
def test_offloading_rounding_eq15(beta):
    # round(sigmoid(beta x)) is the same decision for every beta > 0, so beta is the learners' key.
    a_raw = [0.0, 1e-6, -1e-6]
    _, info, _, _ = run(action(a_raw, [0.0] * 3, [0.0] * 3, [0.0] * 3))
    expected = [round(1.0 / (1.0 + math.exp(-beta * float(np.float32(x))))) for x in a_raw]
    assert expected == [0, 1, 0]  # round(sigmoid(0)) = round(0.5) = 0: a_raw = 0 stays local
    assert list(info["offload"]) == expected
    assert info["offload"].dtype.kind == "i"


# ------------------------------------------------------------- eq. (16), (11)
def test_consistency_masks_eq16():
    instance = pinned()
    for mode in ("mask", "none"):
        cfg = mec_marl.make("cpdrl_v0", n_devices=3, consistency=mode).config
        dec = decode_action(REFERENCE, instance, cfg)
        b_req = [scale(x, B) for x in B_RAW]
        f_req = [scale(x, fm) for x, fm in zip(F_RAW, FMAX)]
        p_req = [scale(x, P_MAX) for x in P_RAW]
        if mode == "mask":  # b, p zeroed for the local UTD0, f zeroed for offloaders 1, 2
            b_req[0] = p_req[0] = 0.0
            f_req[1] = f_req[2] = 0.0
        assert list(dec["offload"]) == [False, True, True]
        assert list(dec["bandwidth"]) == pytest.approx(b_req, rel=1e-7)
        assert list(dec["cpu_freq"]) == pytest.approx(f_req, rel=1e-7)
        assert list(dec["power"]) == pytest.approx(p_req, rel=1e-7)


def test_consistency_none_executes_the_raw_combination():
    """Without masks every UTD is inconsistent (eq. 11), the local UTD's band counts
    toward C2 and the over-use is rescaled: offloaders get b * B / sum b."""
    reward, info, _, _ = run(REFERENCE, consistency="none")
    b_req = [scale(x, B) for x in B_RAW]  # 0.6 B, 0.5 B, 0.25 B
    total = sum(b_req)
    assert total / B == pytest.approx(1.35, rel=1e-6)
    assert list(info["consistent"]) == [False, False, False]
    assert info["bandwidth_overuse"] == pytest.approx(0.35, rel=1e-6)
    t = [local_delay(DATA[0], CPB[0], scale(F_RAW[0], FMAX[0]))]
    e = [local_energy(DATA[0], CPB[0], scale(F_RAW[0], FMAX[0]))]
    for i in (1, 2):
        b, p = b_req[i] * B / total, scale(P_RAW[i], P_MAX)
        t_up = DATA[i] / rate(b, p, gain(i))
        assert info["bandwidth"][i] == pytest.approx(b, rel=1e-6)
        t.append(t_up + edge_delay(DATA[i], CPB[i], 2))
        e.append(p * t_up)
    assert info["bandwidth"][0] == 0.0 and info["power"][0] == 0.0
    assert info["cpu_freq"][1] == 0.0 and info["cpu_freq"][2] == 0.0
    assert list(info["latency"]) == pytest.approx(t, rel=1e-6)
    assert list(info["energy"]) == pytest.approx(e, rel=1e-6)
    tardiness = sum(max(0.0, x - TAU) for x in t)
    assert reward == pytest.approx(-(sum(t) + sum(e)) - tardiness - 0.35 + 0.0, rel=1e-6)
    # the masked env on the same action: all consistent, no over-use, bonus 1
    reward_mask, info_mask, _, _ = run(REFERENCE, consistency="mask")
    assert list(info_mask["consistent"]) == [True, True, True]
    assert reward_mask == pytest.approx(-info_mask["penalised_cost"] + 1.0, rel=1e-9)


# -------------------------------------------------------- C2 over-use handling
@pytest.mark.parametrize("mode", ["rescale", "execute"])
def test_bandwidth_overuse_rescale_vs_execute(mode):
    # UTD0 local; UTD1, UTD2 request the whole band each: sum b / B = 2
    a = action([-1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0])
    reward, info, _, _ = run(a, bandwidth_overuse=mode)
    b_exec = B / 2 if mode == "rescale" else B
    assert info["bandwidth_overuse"] == pytest.approx(1.0, rel=1e-7)
    t, e = [DATA[0] * CPB[0] / FMAX[0]], [KAPPA * DATA[0] * CPB[0] * FMAX[0] ** 2]
    for i in (1, 2):
        t_up = DATA[i] / rate(b_exec, P_MAX, gain(i))
        assert info["bandwidth"][i] == pytest.approx(b_exec, rel=1e-7)
        t.append(t_up + edge_delay(DATA[i], CPB[i], 2))
        e.append(P_MAX * t_up)
    assert list(info["latency"]) == pytest.approx(t, rel=1e-7)
    assert list(info["energy"]) == pytest.approx(e, rel=1e-7)
    tardiness = sum(max(0.0, x - TAU) for x in t)
    # the reward charges the over-use in both modes
    assert reward == pytest.approx(-(sum(t) + sum(e)) - tardiness - 1.0 + 1.0, rel=1e-7)


# ------------------------------------------------------------ resource floor
@pytest.mark.parametrize("floor", [1e-3, 1e-2])
def test_resource_floor(floor):
    # UTD0 local with f = 0; UTD1 offloads with b = 0, p = 0; UTD2 offloads normally
    a = action([-1.0, 1.0, 1.0], [1.0, -1.0, 0.0], [-1.0, -1.0, -1.0], [1.0, -1.0, 1.0])
    reward, info, _, _ = run(a, min_resource_fraction=floor)
    f0 = floor * FMAX[0]
    assert info["cpu_freq"][0] == pytest.approx(f0, rel=1e-12)
    assert info["latency"][0] == pytest.approx(DATA[0] * CPB[0] / f0, rel=1e-9)
    assert info["energy"][0] == pytest.approx(KAPPA * DATA[0] * CPB[0] * f0**2, rel=1e-9)
    b1, p1 = floor * B, floor * P_MAX
    assert info["bandwidth"][1] == pytest.approx(b1, rel=1e-12)
    assert info["power"][1] == pytest.approx(p1, rel=1e-12)
    t_up1 = DATA[1] / rate(b1, p1, gain(1))
    assert info["latency"][1] == pytest.approx(t_up1 + edge_delay(DATA[1], CPB[1], 2), rel=1e-7)
    assert info["energy"][1] == pytest.approx(p1 * t_up1, rel=1e-7)
    assert all(np.isfinite(info["latency"])) and all(np.isfinite(info["energy"]))
    # zero resources are inconsistent (eq. 11): only UTD2 earns the bonus
    assert list(info["consistent"]) == [False, False, True]
    tardiness = sum(max(0.0, x - TAU) for x in info["latency"])
    assert reward == pytest.approx(-info["objective"] - tardiness + 1 / 3, rel=1e-9)


# ------------------------------------------------------------------- eq. (4)
def test_gain_is_distance_power_minus_three():
    env = mec_marl.make("cpdrl_v0", n_devices=8)
    env.reset(seed=3)
    inst = env.unwrapped.instance
    for (x, y), d, g in zip(inst.position, inst.distance, inst.gain):
        dist = math.hypot(x - 150.0, y - 150.0)
        assert d == pytest.approx(dist, rel=1e-12)
        assert g == pytest.approx(max(dist, 1.0) ** -3, rel=1e-12)


def test_gain_floors_the_distance_at_min_distance():
    env = mec_marl.make("cpdrl_v0", n_devices=8, area_side=1.0)  # every UTD within 0.71 m
    env.reset(seed=0)
    inst = env.unwrapped.instance
    assert np.all(inst.distance < 1.0)
    assert list(inst.gain) == pytest.approx([1.0] * 8, rel=1e-12)
    env = mec_marl.make("cpdrl_v0", n_devices=8, min_distance=120.0, path_loss_exponent=-2.0)
    env.reset(seed=1)
    inst = env.unwrapped.instance
    assert np.any(inst.distance < 120.0) and np.any(inst.distance > 120.0)  # the floor bites on some
    for d, g in zip(inst.distance, inst.gain):
        assert g == pytest.approx(max(float(d), 120.0) ** -2, rel=1e-12)


# ----------------------------------------------------------- sample_instance
@pytest.mark.parametrize(
    "scenario,d_lo,d_hi", [(None, 200 * 8 * 1024, 400 * 8 * 1024), ("cpdrl_kilobit", 200_000, 400_000)]
)
def test_sample_instance_within_table1_ranges(scenario, d_lo, d_hi):
    kwargs = {"n_devices": 10} if scenario is None else {"n_devices": 10, "scenario": scenario}
    env = mec_marl.make("cpdrl_v0", **kwargs)
    samples = {"data": [], "cpb": [], "fmax": [], "xy": []}
    for seed in range(20):
        env.reset(seed=seed)
        inst = env.unwrapped.instance
        assert inst.n == 10
        assert list(inst.server_position) == [150.0, 150.0]  # server at the centre
        samples["data"] += list(inst.data_size)
        samples["cpb"] += list(inst.cycles_per_bit)
        samples["fmax"] += list(inst.f_max)
        samples["xy"] += list(inst.position.ravel())
    for key, lo, hi in [("data", d_lo, d_hi), ("cpb", 500, 1000), ("fmax", 1e9, 2e9), ("xy", 0.0, 300.0)]:
        values = samples[key]
        assert min(values) >= lo and max(values) <= hi, key
        # uniform over the whole range, not stuck in a corner of it (200 draws)
        assert max(values) - min(values) > 0.9 * (hi - lo), key
        assert abs(sum(values) / len(values) - (lo + hi) / 2) < 0.1 * (hi - lo), key


def test_sample_instance_is_a_function_of_the_seed():
    env = mec_marl.make("cpdrl_v0", n_devices=4)
    env.reset(seed=5)
    a = env.unwrapped.instance
    env.reset(seed=5)
    b = env.unwrapped.instance
    env.reset(seed=6)
    c = env.unwrapped.instance
    assert np.array_equal(a.data_size, b.data_size) and np.array_equal(a.position, b.position)
    assert not np.array_equal(a.data_size, c.data_size)


def test_pinned_instance_is_checked():
    env = mec_marl.make("cpdrl_v0", n_devices=4)
    with pytest.raises(ValueError, match="n_devices=4"):
        env.reset(options={"instance": pinned()})  # 3 UTDs
    with pytest.raises(ValueError, match="CpdrlInstance"):
        env.reset(options={"instance": {"data_size": DATA}})
    bad = pinned(data=[1.6e6, -1.0, 3.2e6])
    with pytest.raises(ValueError, match="data_size"):
        mec_marl.make("cpdrl_v0", n_devices=3).reset(options={"instance": bad})


# ------------------------------------------------------------- observations
def test_observation_layout_paper_mode():
    env = mec_marl.make("cpdrl_v0", n_devices=3, observation="paper")
    assert env.observation_space(AGENT).shape == (6,)
    obs0, _ = env.reset(options={"instance": pinned()})
    # initial observation: every UTD local at f_max
    t_ref = [DATA[i] * CPB[i] / FMAX[i] for i in range(3)]
    e_ref = [KAPPA * DATA[i] * CPB[i] * FMAX[i] ** 2 for i in range(3)]
    assert obs0[AGENT].dtype == np.float32
    np.testing.assert_allclose(obs0[AGENT], np.float32(t_ref + e_ref), rtol=1e-6)
    obs, _, _, _, _ = env.step({AGENT: REFERENCE})
    t, e = reference_outcome()
    np.testing.assert_allclose(obs[AGENT], np.float32(t + e), rtol=1e-6)
    # state() is the full vector even in paper mode
    assert env.state().shape == (18,)
    np.testing.assert_allclose(env.state()[:6], np.float32(t + e), rtol=1e-6)


def test_observation_layout_full_mode():
    env = mec_marl.make("cpdrl_v0", n_devices=3)
    assert env.observation_space(AGENT).shape == (18,)
    env.reset(options={"instance": pinned()})
    obs, _, _, _, _ = env.step({AGENT: REFERENCE})
    t, e = reference_outcome()
    d_hi, c_hi, f_hi = 400 * 8192.0, 1000.0, 2e9
    snr = [max(0.0, math.log10(P_MAX * gain(i) / SIGMA2) / 10) for i in range(3)]
    assert snr[1] == pytest.approx(0.7)  # log10(1 W * 1e-6 / 1e-13) / 10
    expected = t + e + [d / d_hi for d in DATA] + [c / c_hi for c in CPB] + snr + [f / f_hi for f in FMAX]
    np.testing.assert_allclose(obs[AGENT], np.float32(expected), rtol=1e-6)
    np.testing.assert_array_equal(env.state(), obs[AGENT])


def test_snr_feature_is_clipped_at_zero():
    env = mec_marl.make("cpdrl_v0", n_devices=3, noise_power=1e-3)  # P g / sigma^2 <= 1e-3: log10 < 0
    obs, _ = env.reset(options={"instance": pinned()})
    assert np.all(obs[AGENT][12:15] == 0.0)


# ----------------------------------------------------- encode <-> decode
@pytest.mark.parametrize("consistency", ["mask", "none"])
def test_encode_is_the_inverse_of_decode_for_consistent_decisions(consistency):
    rng = np.random.default_rng(7)
    env = mec_marl.make("cpdrl_v0", n_devices=5, consistency=consistency)
    cfg = env.config
    for trial in range(20):
        env.reset(seed=trial)
        inst = env.unwrapped.instance
        offload = rng.random(5) < 0.5
        bandwidth = np.where(offload, rng.uniform(0.01, 1.0, 5) * cfg.bandwidth, 0.0)
        power = np.where(offload, rng.uniform(0.01, 1.0, 5) * cfg.p_max, 0.0)
        cpu = np.where(offload, 0.0, rng.uniform(0.01, 1.0, 5) * inst.f_max)
        raw = encode_action(offload, bandwidth, cpu, power, inst, cfg)
        assert raw.shape == (20,) and np.all(np.abs(raw) <= 1.0)
        assert env.action_space(AGENT).contains(raw.astype(np.float32))
        dec = decode_action(raw, inst, cfg)
        np.testing.assert_array_equal(dec["offload"], offload)
        np.testing.assert_allclose(dec["bandwidth"], bandwidth, rtol=1e-12, atol=1e-6)
        np.testing.assert_allclose(dec["cpu_freq"], cpu, rtol=1e-12, atol=1e-3)
        np.testing.assert_allclose(dec["power"], power, rtol=1e-12, atol=1e-12)
        assert dec["consistent"].all()
        # and decode -> encode -> decode is a fixed point
        again = encode_action(dec["offload"], dec["bandwidth"], dec["cpu_freq"], dec["power"], inst, cfg)
        np.testing.assert_allclose(again, raw, atol=1e-12)


def test_encoded_action_through_the_env_executes_the_decision():
    inst = pinned()
    env = mec_marl.make("cpdrl_v0", n_devices=3)
    env.reset(options={"instance": inst})
    offload = np.array([False, True, True])
    bandwidth = np.array([0.0, 2e6, 1e6])
    cpu = np.array([7e8, 0.0, 0.0])
    power = np.array([0.0, 0.5, 0.25])
    raw = encode_action(offload, bandwidth, cpu, power, inst, env.config)
    _, _, _, _, infos = env.step({AGENT: raw.astype(np.float32)})
    info = infos[AGENT]
    assert list(info["offload"]) == [0, 1, 1]
    np.testing.assert_allclose(info["bandwidth"], bandwidth, rtol=1e-6)
    np.testing.assert_allclose(info["cpu_freq"], cpu, rtol=1e-6)
    np.testing.assert_allclose(info["power"], power, rtol=1e-6)
    assert info["latency"][0] == pytest.approx(DATA[0] * CPB[0] / 7e8, rel=1e-6)
    t_up = DATA[1] / (2e6 * math.log2(1 + 0.5 * gain(1) / SIGMA2))
    assert info["latency"][1] == pytest.approx(t_up + DATA[1] * CPB[1] * 2 / F_EDGE, rel=1e-6)


def test_pinned_instance_with_wrong_position_shape_is_refused():
    import dataclasses

    env = mec_marl.make("cpdrl_v0", n_devices=3)
    bad = dataclasses.replace(pinned(), position=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="position"):
        env.reset(options={"instance": bad})
