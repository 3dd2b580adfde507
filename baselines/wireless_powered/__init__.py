"""wireless_powered_v0's methods (DROO, TMC 2020; Bi & Zhang, TWC 2018; LyDROO, TWC 2021); registers them on import.

:mod:`.heuristics`: all-local, all-offload, random, exhaustive search and
coordinate descent; :mod:`.droo`: the DROO learner (order-preserving or kNN
quantiser, K candidates scored by the exact critic, replay-trained DNN,
adaptive K); :mod:`.lydroo`: LyDROO (DROO's learner on [h, Q, Y] with the
per-slot P4 critic, for ``queues=True``); :mod:`.methods`: the registry entries.
"""

from baselines import registry as _registry
from baselines.wireless_powered import methods as _methods

_methods.register_all(_registry.register, _registry.Method)
