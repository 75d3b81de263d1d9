"""评审委员会表决 (committee vote): the award committee sets an outcome (a tier, or approve /
not) for each application on the ranked list and approves the list as a whole, within per-tier
quotas."""
