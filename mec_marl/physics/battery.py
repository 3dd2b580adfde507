"""Rechargeable ED batteries with energy harvesting: the six cases of PFR-OA eq. (8)-(13).

Every case has the same form, b(t+1) = min(max(b(t) + e_t - charge, 0), b_max);
the cases differ only in the energy ``charge`` a sub-slot takes from the
battery. The charge of a task is taken in full in the sub-slot the task starts
(C3 is checked against b(t) at that moment); busy and idle EDs harvest e_t in
every sub-slot. All functions broadcast over leading axes and take SI inputs.
"""

from __future__ import annotations

import numpy as np

# Case codes: the paper's equation numbers.
IDLE = 8  # eq. 8: nothing started this sub-slot (empty queue or busy ED)
LOCAL_SUCCESS = 9  # eq. 9: completed on the ED
LOCAL_FAILURE = 10  # eq. 10: run on the ED, broke C2 (delay) or C3 (battery)
EDGE_SUCCESS = 11  # eq. 11: uploaded and completed by the MEC server
UPLOAD_FAILURE = 12  # eq. 12: the upload broke C2 or C3
EDGE_FAILURE = 13  # eq. 13: uploaded, then the edge run broke C2 or C3
CASES = (IDLE, LOCAL_SUCCESS, LOCAL_FAILURE, EDGE_SUCCESS, UPLOAD_FAILURE, EDGE_FAILURE)


def next_level(battery, harvest, charge, capacity):
    """``min(max(b + e_t - charge, 0), b_max)``: the common form of eq. (8)-(13)."""
    return np.minimum(np.maximum(np.asarray(battery, dtype=float) + harvest - charge, 0.0), capacity)


def drawn(battery, harvest, charge):
    """Energy that actually leaves the battery, ``min(charge, b + e_t)`` (the clip at 0 of eq. 9-13)."""
    return np.minimum(charge, np.asarray(battery, dtype=float) + harvest)


def local_charge(local_energy):
    """Eq. (9) and (10): a task run on the ED costs E^l whether it meets C2 or not."""
    return np.asarray(local_energy, dtype=float)


def edge_success_charge(upload_energy, edge_energy):
    """Eq. (11): E^tr + E^m."""
    return np.asarray(upload_energy, dtype=float) + edge_energy


def upload_failure_charge(power, upload_time, sub_slot: float):
    """Eq. (12): (tau / T^tr) E^tr = P min(tau, T^tr), the paper's "h/T" read as the sub-slot tau."""
    return np.asarray(power, dtype=float) * np.minimum(sub_slot, upload_time)


def edge_failure_charge(upload_energy, edge_power: float, upload_time, edge_time, sub_slot: float):
    """Eq. (13): E^tr plus the edge energy of the part of the edge run inside the sub-slot,
    ``((tau - T^tr) / T^m) E^m = P_m clip(tau - T^tr, 0, T^m)``."""
    inside = np.clip(sub_slot - np.asarray(upload_time, dtype=float), 0.0, edge_time)
    return np.asarray(upload_energy, dtype=float) + edge_power * inside


def classify(started, offload, local_ok, upload_ok, edge_ok):
    """The battery case of each ED (codes above) from the sub-slot's outcome flags.

    ``local_ok``: C2 and C3 hold for local execution; ``upload_ok``: the upload
    meets both; ``edge_ok``: the whole offloaded task meets both.
    """
    started, offload = np.asarray(started, dtype=bool), np.asarray(offload, dtype=bool)
    local = np.where(local_ok, LOCAL_SUCCESS, LOCAL_FAILURE)
    edge = np.where(upload_ok, np.where(edge_ok, EDGE_SUCCESS, EDGE_FAILURE), UPLOAD_FAILURE)
    return np.where(started, np.where(offload, edge, local), IDLE)


def charge(case, local_energy, upload_energy, edge_energy, power, upload_time, edge_time, edge_power, sub_slot):
    """The energy each case takes from the battery (eq. 8-13), selected per ED."""
    return np.select(
        [case == code for code in (LOCAL_SUCCESS, LOCAL_FAILURE, EDGE_SUCCESS, UPLOAD_FAILURE, EDGE_FAILURE)],
        [
            local_charge(local_energy),
            local_charge(local_energy),
            edge_success_charge(upload_energy, edge_energy),
            upload_failure_charge(power, upload_time, sub_slot),
            edge_failure_charge(upload_energy, edge_power, upload_time, edge_time, sub_slot),
        ],
        default=0.0,
    )
