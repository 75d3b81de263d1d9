"""形式审查 (formal review): accept (受理, with an acceptance notice), return for correction
(补正, N working days, lapsing by a timer) or refuse (不予受理, with a refusal decision)."""
