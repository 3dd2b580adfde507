"""The environments, one module per paper; ``<name>_v<k>`` aliases are the versioned ids."""

from mec_marl.envs import cpdrl as cpdrl_v0
from mec_marl.envs import djtcra as djtcra_v0
from mec_marl.envs import large_scale as large_scale_v0
from mec_marl.envs import semantic as semantic_v0
from mec_marl.envs import smart_community as smart_community_v0
from mec_marl.envs import wireless_powered as wireless_powered_v0

__all__ = ["cpdrl_v0", "djtcra_v0", "large_scale_v0", "semantic_v0", "smart_community_v0", "wireless_powered_v0"]
