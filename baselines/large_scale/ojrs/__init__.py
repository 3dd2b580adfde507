"""OJRS (Jiang et al., IEEE IoT-J 2020): 2r-SAE, ASA action search, 2p-ER replay."""
