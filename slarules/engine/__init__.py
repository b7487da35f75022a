"""The pure core: business time, rule decisions, timers, reports. No I/O, no clock."""
