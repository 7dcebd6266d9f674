"""Controllers running inside the fake, each reconciling every object once per tick."""
