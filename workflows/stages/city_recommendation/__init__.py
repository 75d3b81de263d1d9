"""推荐 (city recommendation): the city (市州) office of the applicant's region recommends it or
not, with a reason, within an optional number of places per city and call (the quota)."""
