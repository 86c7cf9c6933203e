"""Where the build puts what the grader runs (see the top-level Makefile)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Build:
    """Artefacts of one build variant (build/stub, build/sol-0-1, ...) and the guests."""

    def __init__(self, directory):
        self.dir = (ROOT / directory).resolve()
        self.kernel = self.dir / "kernel/hypatia.elf"      # ELF64: GDB, GRUB/Bochs
        self.kernel32 = self.dir / "kernel/hypatia32.elf"  # ELF32: QEMU -kernel
        self.guests = ROOT / "build/guests"

    def guest_native(self, name):
        """A test guest built as a native multiboot kernel (ELF32, for QEMU -kernel)."""
        return self.guests / "native" / f"{name}.elf32"

    def guest_pv(self, name):
        """A test guest built paravirtualized (hypercalls, shared-info page)."""
        return self.guests / "pv" / f"{name}.elf"

    def guest_image(self, name):
        """A test guest built as a guest image the hypervisor loads."""
        return self.guests / "image" / f"{name}.elf"
