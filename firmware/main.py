# Entry point on a real companion board (MicroPython runs main.py at boot). Wiring, for a
# Raspberry Pi Pico: UART0 TX=GP0 RX=GP1 to the node's UART (crossed), GP15 through an NPN / open
# drain to the node's RUN/reset pad (active-low), optional SSD1306 on I2C0 (GP4 SDA, GP5 SCL).
# The board's own hardware watchdog (machine.WDT) restarts this firmware if it ever hangs.
import time

import machine

from companion import Companion
from display import PrintPanel, TextDisplay
from pins import OutputPin
from ring import EventRing

UART_ID = 0
BAUD = 115200
RESET_PIN = 15
HEARTBEAT_TIMEOUT_MS = 30000
EVENTS_PATH = "/events.bin"


def open_panel():
    try:
        import ssd1306  # noqa: optional driver from micropython-lib

        i2c = machine.I2C(0, sda=machine.Pin(4), scl=machine.Pin(5))
        oled = ssd1306.SSD1306_I2C(128, 32, i2c)
    except (ImportError, OSError):
        return PrintPanel()

    class OledPanel:
        def show(self, lines):
            oled.fill(0)
            for i, line in enumerate(lines):
                oled.text(line, 0, i * 8)
            oled.show()

    return OledPanel()


def run():
    uart = machine.UART(UART_ID, BAUD, tx=machine.Pin(0), rx=machine.Pin(1), timeout=0)
    reset = OutputPin(machine.Pin(RESET_PIN, machine.Pin.OUT), active_low=True)
    app = Companion(reset, TextDisplay(open_panel()), EventRing(EVENTS_PATH),
                    timeout_ms=HEARTBEAT_TIMEOUT_MS, initial_seq=time.ticks_ms() & 0xFFFF)
    wdt = machine.WDT(timeout=8000)
    clock = 0
    last = time.ticks_ms()
    while True:
        tick = time.ticks_ms()
        clock += time.ticks_diff(tick, last)  # ticks_ms wraps; the sum does not
        last = tick
        tx = app.step(clock, uart.read() or b"")
        if tx:
            uart.write(tx)
        wdt.feed()
        time.sleep_ms(10)


run()
