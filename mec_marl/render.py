"""Rendering: a topology picture (``rgb_array``) drawn straight into a numpy array.

No plotting library on the step path: the picture is rasterised with numpy so
that ``render()`` stays cheap enough to call every step. Servers are squares
(the cloud, if any, a wider square at the top edge), users are dots coloured by
where their task went (grey = local, one colour per server), and a line joins
each offloading user to its server.
"""

from __future__ import annotations

import numpy as np

SIZE = 256
MARGIN = 16
BACKGROUND = (250, 250, 250)
LOCAL_COLOUR = (150, 150, 150)
SERVER_COLOUR = (30, 30, 30)
PALETTE = np.array(
    [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75), (227, 119, 194)],
    dtype=np.uint8,
)


def _to_pixels(points, area):
    points = np.atleast_2d(np.asarray(points, dtype=float))
    scale = (SIZE - 2 * MARGIN) / np.maximum(np.asarray(area, dtype=float), 1e-9)
    px = MARGIN + points * scale
    px[:, 1] = SIZE - px[:, 1]  # y up
    return np.clip(np.round(px), 0, SIZE - 1).astype(int)


def _disc(img, centre, radius, colour):
    yy, xx = np.ogrid[:SIZE, :SIZE]
    mask = (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 <= radius**2
    img[mask] = colour


def _square(img, centre, half, colour):
    x0, x1 = max(centre[0] - half, 0), min(centre[0] + half + 1, SIZE)
    y0, y1 = max(centre[1] - half, 0), min(centre[1] + half + 1, SIZE)
    img[y0:y1, x0:x1] = colour


def _line(img, start, end, colour):
    n = int(max(abs(end[0] - start[0]), abs(end[1] - start[1]))) + 1
    xs = np.round(np.linspace(start[0], end[0], n)).astype(int)
    ys = np.round(np.linspace(start[1], end[1], n)).astype(int)
    img[np.clip(ys, 0, SIZE - 1), np.clip(xs, 0, SIZE - 1)] = colour


def topology_image(servers, users, targets, area, cloud: bool = False) -> np.ndarray:
    """Draw a ``(SIZE, SIZE, 3)`` uint8 picture.

    Args:
        servers: ``(S, 2)`` server positions in metres.
        users: ``(N, 2)`` user positions in metres.
        targets: ``(N,)`` int, 0 = local, j = server j (1-based); with ``cloud``
            the last index is the cloud, drawn at the top edge.
        area: ``(width, height)`` of the region in metres.
    """
    img = np.empty((SIZE, SIZE, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    server_px = _to_pixels(servers, area) if len(servers) else np.zeros((0, 2), int)
    user_px = _to_pixels(users, area) if len(users) else np.zeros((0, 2), int)
    targets = np.asarray(targets, dtype=int)
    cloud_px = np.array([SIZE // 2, 4])
    for u, t in zip(user_px, targets):
        if t <= 0:
            continue
        is_cloud = cloud and t == len(servers) + 1
        dest = cloud_px if is_cloud else server_px[t - 1]
        _line(img, u, dest, PALETTE[(t - 1) % len(PALETTE)])
    for s in server_px:
        _square(img, s, 5, SERVER_COLOUR)
    if cloud:
        _square(img, cloud_px, 4, SERVER_COLOUR)
    for u, t in zip(user_px, targets):
        colour = LOCAL_COLOUR if t <= 0 else PALETTE[(t - 1) % len(PALETTE)]
        _disc(img, u, 3, colour)
    return img
