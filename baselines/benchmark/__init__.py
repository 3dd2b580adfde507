"""Speed benchmark, one module per area; :mod:`.suite` runs them all, :mod:`.cli` is the command line.

* :mod:`.throughput` -- env steps/s against PettingZoo MPE2, and the vector env's rate by batch size;
* :mod:`.solvers` -- fast sub-solvers against :mod:`mec_marl.solvers.reference`;
* :mod:`.decision` -- a search's time per instance against a learner's ``act``;
* :mod:`.machine`, :mod:`.report` -- what it ran on; JSON and Markdown written once, atomically.

Each new env extends an area with one case. Speed goals are reported, never asserted.
"""
