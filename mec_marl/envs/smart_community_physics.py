"""One sub-slot of the smart-community system (PFR-OA eq. 1-19), batch-first and loop-free.

Arrays are ``(*b, m, n)`` (batch, community, ED) unless noted; the task
buffers are windows over the pre-drawn arrivals (:mod:`mec_marl.physics.queues`).
Used by :mod:`mec_marl.envs.smart_community`, whose docstring states the rules.
"""

from __future__ import annotations

import numpy as np

from mec_marl.physics import battery, channel, compute, queues

AGENT_PREFIX = "community_"
# Busy-until times are sums of floats; a boundary within this many seconds counts as reached.
TIME_EPS = 1e-9
# Fixed observation units: bandwidth in 10 MHz, CPU in 10 GHz, q_p in 10, queue length in 10 tasks.
BANDWIDTH_UNIT, CAPACITY_UNIT, PENALTY_UNIT, QUEUE_UNIT = 1e7, 1e10, 10.0, 10.0
BUSY_CAP = 10.0  # remaining busy time is observed in T_d, capped here


def renormalise(raw, offload):
    """C4/C5: shares of the offloaders proportional to ``raw``, summing to 1 per community (0 elsewhere)."""
    masked = np.where(offload, raw, 0.0)
    total = masked.sum(axis=-1, keepdims=True)
    return masked / np.where(total > 0, total, 1.0)


def decode(action, has_task, config):
    """Raw ``(*b, m, 3n)`` action -> (alpha, offload, w, beta): eq. 18 with C1, C4, C5 as post-processing."""
    n = config.n_devices
    alpha = action[..., :n] > 0.0  # tanh output rounded to {0, 1}
    offload = alpha & has_task
    w = renormalise(np.maximum((action[..., n : 2 * n] + 1.0) * 0.5, config.min_share), offload)
    beta = renormalise(np.maximum((action[..., 2 * n :] + 1.0) * 0.5, config.min_share), offload)
    return alpha, offload, w, beta


def head_task(config, instance, state):
    """Arrival time, D, C of each head-of-queue task, and whether the ED can start it now."""
    now = (state.t * config.sub_slot_length)[..., None, None]
    idle = state.busy_until <= now + TIME_EPS
    has_task = idle & (state.head < state.tail)
    return now, state.head_arrival, state.head_data, state.head_cycles, has_task


def head_fields(instance, head, changed=None, state=None) -> dict:
    """The state's cached head-of-queue task (arrival, D, C), re-read only where the head moved."""
    names = {"head_arrival": instance.arrival_time, "head_data": instance.data_size, "head_cycles": instance.cycles}
    if changed is None:
        return {key: queues.head_value(values, head) for key, values in names.items()}
    return {key: queues.refresh(values, head, changed, getattr(state, key)) for key, values in names.items()}


def subslot(config, instance, state, action, state_cls):
    """Advance every ED by one sub-slot. Returns ``(state, rewards (*b, m), infos {key: (*b, m[, n])})``."""
    tau, deadline = config.sub_slot_length, config.deadline
    now, arrival, data, cycles, has_task = head_task(config, instance, state)
    alpha, offload, w, beta = decode(action, has_task, config)
    local = has_task & ~offload
    waiting = np.where(has_task, now - arrival, 0.0)  # T^w

    f, power = instance.cpu_freq, instance.power
    t_local = compute.local_latency(cycles, f)  # eq. 4
    e_local = compute.local_energy(cycles, f, config.kappa)  # eq. 5
    bandwidth = np.where(offload, w * config.bandwidth, 0.0)
    edge_cpu = np.where(offload, beta * config.edge_capacity, 0.0)
    rate = channel.shannon_rate(np.where(offload, bandwidth, 1.0), power, instance.gain, config.noise_power)  # eq. 1
    t_up = channel.upload_time(data, rate)  # eq. 2
    e_up = channel.upload_energy(power, t_up)  # eq. 3
    t_edge = cycles / np.where(offload, edge_cpu, 1.0)  # eq. 6: C / (beta F)
    e_edge = config.edge_power * t_edge  # eq. 7

    b = state.battery
    local_ok = (waiting + t_local <= deadline) & (e_local <= b)  # C2, C3
    upload_ok = (waiting + t_up <= deadline) & (e_up <= b)
    edge_ok = (waiting + t_up + t_edge <= deadline) & (e_up + e_edge <= b)
    case = battery.classify(has_task, offload, local_ok, upload_ok, edge_ok)
    charge = battery.charge(case, e_local, e_up, e_edge, power, t_up, t_edge, config.edge_power, tau)
    energy = np.where(has_task, battery.drawn(b, config.harvest, charge), 0.0)
    new_battery = battery.next_level(b, config.harvest, charge, config.battery_capacity)  # eq. 8-13
    success = has_task & np.where(offload, upload_ok & edge_ok, local_ok)

    run = np.where(offload, np.where(upload_ok, t_up + t_edge, t_up), t_local)
    latency = np.where(has_task, waiting + run, 0.0)  # eq. 14
    occupied = t_up if config.edge_occupancy == "upload" else run
    busy = np.where(offload, occupied, t_local)
    busy_until = np.where(has_task, now + busy, state.busy_until)

    # The sub-slot ends: queued tasks whose waiting reaches T_d are dropped.
    next_now = ((state.t + 1) * tau)[..., None, None]
    # (queues.expire / arrived / window_sum, read from the instance's per-boundary tables)
    started_head = state.head + has_task
    head = np.maximum(started_head, queues.at_boundary(instance.stale_count, state.t + 1))
    dropped = head - started_head
    tail = queues.at_boundary(instance.ready_count, state.t + 1)
    # A dropped task waited from its arrival to the boundary where it is dropped (>= T_d).
    has_dropped = dropped > 0
    dropped_sum = queues.refresh(instance.arrival_prefix, head, has_dropped, np.zeros(head.shape)) - queues.refresh(
        instance.arrival_prefix, started_head, has_dropped, np.zeros(head.shape)
    )
    dropped_waiting = dropped * next_now - dropped_sum

    q = instance.weights[..., :, None, :]  # (*b, m, 1, 3)
    cost = q[..., 0] * latency + q[..., 1] * energy  # eq. 19, success branch
    failed = has_task & ~success
    per_ed = np.where(success, -cost, 0.0) - q[..., 2] * (failed + dropped)
    rewards = per_ed.sum(axis=-1)

    n_dropped = dropped.sum(axis=-1)
    tasks = has_task.sum(axis=-1) + n_dropped
    successes = success.sum(axis=-1)
    energy_sum = energy.sum(axis=-1)
    waiting_sum = (waiting + dropped_waiting).sum(axis=-1)
    per_task = 1.0 / np.maximum(tasks, 1)
    infos = {
        "latency": latency,
        "energy": energy,
        "waiting": waiting + dropped_waiting,
        "offload": offload.astype(np.int64),
        "bandwidth": bandwidth,
        "power": np.where(offload, power, 0.0),
        "cpu_freq": np.where(local, f, 0.0),
        "edge_cpu": edge_cpu,
        "success": success,
        "started": has_task,
        "dropped": dropped.astype(np.int64),
        "battery": new_battery,
        "battery_case": case.astype(np.int64),
        "queue_length": np.maximum(tail - head, 0).astype(np.int64),
        "objective": np.where(has_task, cost, 0.0).sum(axis=-1),
        "tasks": tasks.astype(float),
        "successes": successes.astype(float),
        "energy_sum": energy_sum,
        "waiting_sum": waiting_sum,
        "latency_sum": (latency + dropped_waiting).sum(axis=-1),
        "success_rate": successes * per_task,
        "avg_energy": energy_sum * per_task,
        "avg_waiting_time": waiting_sum * per_task,
    }
    new_state = state_cls(
        head=head,
        tail=tail,
        **head_fields(instance, head, head != state.head, state),
        busy_until=busy_until,
        battery=new_battery,
        offload=alpha,
        case=case,
        t=state.t + 1,
    )
    return new_state, rewards, infos


def empty_infos(config, instance, state) -> dict:
    """Reset infos: the step's keys, nothing started (battery and buffers as at reset)."""
    shape = instance.distance.shape
    zeros, izeros = np.zeros(shape), np.zeros(shape, dtype=np.int64)
    scalar = np.zeros(shape[:-1])
    out = {key: zeros for key in ("latency", "energy", "waiting", "bandwidth", "power", "cpu_freq", "edge_cpu")}
    out.update(
        offload=izeros,
        success=np.zeros(shape, dtype=bool),
        started=np.zeros(shape, dtype=bool),
        dropped=izeros,
        battery=state.battery.copy(),
        battery_case=state.case.copy(),
        queue_length=np.maximum(state.tail - state.head, 0).astype(np.int64),
    )
    for key in ("objective", "tasks", "successes", "energy_sum", "waiting_sum", "latency_sum",
                "success_rate", "avg_energy", "avg_waiting_time"):
        out[key] = scalar
    return out


def observation_width(config) -> int:
    return (7 if config.observation == "full" else 4) * config.n_devices + 5


def observe_one(config, instance, state) -> np.ndarray:
    """``(*b, m, width)`` observations (eq. 17, layout in the env docstring), normalised."""
    now, arrival, data, cycles, has_task = head_task(config, instance, state)
    columns = [
        np.where(has_task, data / config.data_size_range[1], 0.0),
        np.where(has_task, cycles / config.cycles_range[1], 0.0),
        state.battery / config.battery_capacity,
        instance.distance / config.distance_range[1],
    ]
    if config.observation == "full":
        queued = np.maximum(state.tail - state.head, 0)
        columns += [
            np.where(has_task, (now - arrival) / config.deadline, 0.0),
            queued / QUEUE_UNIT,
            np.minimum(np.maximum(state.busy_until - now, 0.0) / config.deadline, BUSY_CAP),
        ]
    q = instance.weights
    shape = q.shape[:-1]
    tail = np.stack(
        [
            np.full(shape, config.bandwidth / BANDWIDTH_UNIT),
            np.full(shape, config.edge_capacity / CAPACITY_UNIT),
            q[..., 0],
            q[..., 1],
            q[..., 2] / PENALTY_UNIT,
        ],
        axis=-1,
    )
    return np.concatenate(columns + [tail], axis=-1)
