"""Pure, vectorised physics: functions of arrays, no state, no hidden randomness."""
