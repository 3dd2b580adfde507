"""mec-marl: PettingZoo environments for mobile edge computing.

>>> import mec_marl
>>> env = mec_marl.make("cpdrl_v0", n_devices=4)
>>> observations, infos = env.reset(seed=0)
"""

from mec_marl.config import ConfigError
from mec_marl.registry import ENVS, list_envs, make, make_aec
from mec_marl.registry import _register_all as _register

__version__ = "0.1.0"
__all__ = ["ConfigError", "ENVS", "list_envs", "make", "make_aec", "__version__"]

_register()
