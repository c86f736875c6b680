"""selfheal's sandbox: moto's server, extended where moto falls short of what selfheal uses."""
