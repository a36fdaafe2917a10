# A small text display (e.g. a 128x32 OLED: 4 lines of 16 characters). Lines are clipped and
# made ASCII; the panel backend only needs show(list_of_str). Redraws only on change, because
# I2C panels are slow and flicker.
WIDTH = 16
HEIGHT = 4


class TextDisplay:
    def __init__(self, panel):
        self.panel = panel
        self.lines = None

    def show(self, lines):
        clean = []
        for line in lines[:HEIGHT]:
            clean.append("".join(c if 32 <= ord(c) < 127 else "?" for c in str(line))[:WIDTH])
        if clean != self.lines:
            self.lines = clean
            self.panel.show(clean)


class PrintPanel:
    # Fallback panel for boards without a display: the status goes to the USB REPL.
    def show(self, lines):
        print(" | ".join(lines))
