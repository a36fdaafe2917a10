"""dusk-edge: a lean node for the Dusk network architecture on Raspberry-Pi-class boards."""

__version__ = "0.1.0"
