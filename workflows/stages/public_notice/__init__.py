"""公示 (public notice): the approved list is published for N calendar or working days;
objections may remove an application. The period closes by itself through viewflow's timer
(`manage.py workflow_timers`)."""
