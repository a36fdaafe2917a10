# The companion firmware bundle (MicroPython manifest syntax; `make firmware` reads it through
# firmware/build.py, and `freeze` tools of a MicroPython port can read it too).
metadata(description="dusk-edge companion board: status display, external watchdog, event ring", version="0.1.0")

module("main.py")
module("companion.py")
module("display.py")
module("pins.py")
module("ring.py")

# The shared core: the same frame and CBOR code the node runs.
package(
    "dusk_edge",
    files=(
        "__init__.py",
        "core/__init__.py",
        "core/errors.py",
        "core/_native.py",
        "core/accel.py",
        "core/cbor.py",
        "core/frame.py",
    ),
    base_path="..",
)
