# The pin abstraction: anything with value(v) drives a line. OutputPin adds polarity, because a
# node's reset input is usually active-low (pulled up; the board pulls it to ground). On a real
# board the backend is machine.Pin; under test it is the bridge's pin.


class OutputPin:
    def __init__(self, backend, active_low=True):
        self.backend = backend
        self.active_low = active_low
        self.active = False

    def on(self):
        self.active = True
        self.backend.value(0 if self.active_low else 1)

    def off(self):
        self.active = False
        self.backend.value(1 if self.active_low else 0)
