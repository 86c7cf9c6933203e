"""hypatia.py — GDB commands that look inside the Hypatia hypervisor.

Loaded by the kit's .gdbinit (`source scripts/gdb/hypatia.py`); see docs/gdb.md.
`hv` lists the commands; `help hv-pagewalk` (etc.) explains what the hardware
does with what each one prints.

    hv-domains                   the live domains and their exit counters
    hv-vcpu [DOMAIN]             a vCPU's registers, control registers, MSRs, last exit
    hv-pagewalk ADDR [CR3]       walk a 4-level page table, level by level
    hv-gpa2hpa DOMAIN GPA        guest-physical -> host-physical through the p2m
    hv-trapframe [ADDR]          a saved struct trap_frame
    hv-vmcb / hv-vmcs            the hardware-assisted backends' control blocks (lab 3)

Structures are read through the kernel's DWARF types (`struct vcpu`, `struct
domain`, ...), never through hard-coded offsets, so the commands follow the C.
Physical memory is read through the hypervisor's direct map (memlayout.h).
"""
import gdb

# kernel/include/memlayout.h: physical address p is mapped at DIRECT_MAP_BASE + p.
DIRECT_MAP_BASE = 0xFFFF800000000000
DIRECT_MAP_SIZE = 0x100000000
PAGE_SIZE = 4096

# --- bits the hardware defines --------------------------------------------------------------
# (bit, name) pairs, highest bit first, the order `info registers` uses.

# RFLAGS: Intel SDM Vol. 1 §3.4.3, AMD APM Vol. 2 §3.1.6. IOPL (bits 13:12) is printed apart.
RFLAGS_BITS = [(21, "ID"), (20, "VIP"), (19, "VIF"), (18, "AC"), (17, "VM"), (16, "RF"), (14, "NT"),
               (11, "OF"), (10, "DF"), (9, "IF"), (8, "TF"), (7, "SF"), (6, "ZF"), (4, "AF"), (2, "PF"),
               (0, "CF")]
# CR0: SDM Vol. 3A §2.5, APM Vol. 2 §3.1.1.
CR0_BITS = [(31, "PG"), (30, "CD"), (29, "NW"), (18, "AM"), (16, "WP"), (5, "NE"), (4, "ET"), (3, "TS"),
            (2, "EM"), (1, "MP"), (0, "PE")]
# CR4: SDM Vol. 3A §2.5, APM Vol. 2 §3.1.3.
CR4_BITS = [(22, "PKE"), (21, "SMAP"), (20, "SMEP"), (18, "OSXSAVE"), (17, "PCIDE"), (16, "FSGSBASE"),
            (14, "SMXE"), (13, "VMXE"), (12, "LA57"), (11, "UMIP"), (10, "OSXMMEXCPT"), (9, "OSFXSR"),
            (8, "PCE"), (7, "PGE"), (6, "MCE"), (5, "PAE"), (4, "PSE"), (3, "DE"), (2, "TSD"), (1, "PVI"),
            (0, "VME")]
# XCR0, the state components XSAVE manages and AVX needs: SDM Vol. 1 §13.3.
XCR0_BITS = [(9, "PKRU"), (7, "HI16_ZMM"), (6, "ZMM_HI256"), (5, "OPMASK"), (2, "AVX"), (1, "SSE"), (0, "X87")]
# EFER (MSR 0xc0000080): SDM Vol. 4 §2.1, APM Vol. 2 §3.1.7.
EFER_BITS = [(15, "TCE"), (14, "FFXSR"), (13, "LMSLE"), (12, "SVME"), (11, "NXE"), (10, "LMA"), (8, "LME"),
             (0, "SCE")]
# 4-level paging entries: SDM Vol. 3A §4.5 (Tables 4-14..4-20), APM Vol. 2 §5.3.3.
# Listed lowest bit first, as the SDM's tables do.
PTE_BITS = [(0, "P"), (1, "W"), (2, "U"), (3, "PWT"), (4, "PCD"), (5, "A"), (6, "D"), (7, "PS"), (8, "G"),
            (63, "NX")]
PTE_ADDR_MASK = 0x000FFFFFFFFFF000
# Page-fault error code: SDM Vol. 3A §4.7.
PF_ERROR_BITS = [(5, "PK"), (4, "I/D fetch"), (3, "RSVD"), (2, "U/S user"), (1, "W/R write"),
                 (0, "P protection")]
# Exception mnemonics: SDM Vol. 3A Table 6-1, APM Vol. 2 §8.2.
VECTOR_NAMES = {0: "#DE", 1: "#DB", 2: "NMI", 3: "#BP", 4: "#OF", 5: "#BR", 6: "#UD", 7: "#NM", 8: "#DF",
                10: "#TS", 11: "#NP", 12: "#SS", 13: "#GP", 14: "#PF", 16: "#MF", 17: "#AC", 18: "#MC",
                19: "#XM", 20: "#VE", 21: "#CP", 0x82: "hypercall gate"}


def bit_names(value, table):
    """The names of the bits of @value that are set, as 'PG WP PE'."""
    return " ".join(name for bit, name in table if value >> bit & 1)


def flags(value, table):
    return f"{value:#x} [ {bit_names(value, table)} ]"


def vector_name(vector):
    if vector in VECTOR_NAMES:
        return VECTOR_NAMES[vector]
    return f"IRQ {vector - 32}" if 32 <= vector < 48 else "INT"


# --- reading the target -------------------------------------------------------------------

def u64(value):
    """A gdb.Value (integer, pointer, enum) as a Python int."""
    return int(value.cast(gdb.lookup_type("unsigned long")))


def evaluate(expression):
    """An address or number typed by the user: '0x200000', '&kmain', 'kmain', '$rip', 'v->cr3'."""
    value = gdb.parse_and_eval(expression)
    if value.type.code == gdb.TYPE_CODE_FUNC:
        value = value.address
    return u64(value)


def read_u64(vaddr):
    """8 bytes of hypervisor-virtual memory, through whatever CR3 the CPU has loaded."""
    data = gdb.selected_inferior().read_memory(vaddr, 8)
    return int.from_bytes(bytes(data), "little")


def read_phys_u64(paddr):
    """8 bytes of physical memory, read through the direct map (present in every address space)."""
    if paddr + 8 > DIRECT_MAP_SIZE:
        raise gdb.GdbError(f"physical {paddr:#x} is beyond the direct map (first {DIRECT_MAP_SIZE >> 30} GiB)")
    return read_u64(DIRECT_MAP_BASE + paddr)


def enum_short(value, prefix):
    """DOMAIN_RUNNABLE -> 'runnable' (the enumerator's name, from DWARF)."""
    return str(value).replace(prefix, "").lower()


def symbol_for(address):
    """'<kmain+12>' if some loaded symbol file knows @address, else ''."""
    text = gdb.execute(f"info symbol {address:#x}", to_string=True).strip()
    return "" if text.startswith("No symbol") else f" <{text.split(' in section')[0].replace(' + ', '+')}>"


# --- the hypervisor's structures ----------------------------------------------------------

def domains():
    """The live domains: domain_table[0 .. domain_count) (dom/domain.c), as struct domain * values."""
    table = gdb.parse_and_eval("domain_table")
    return [table[i] for i in range(int(gdb.parse_and_eval("domain_count")))]


def find_domain(text):
    """The struct domain * whose id is @text ('1' or 'd1')."""
    wanted = int(text.lstrip("d"), 0)
    for d in domains():
        if int(d["id"]) == wanted:
            return d
    raise gdb.GdbError(f"no live domain d{wanted} (hv-domains lists them)")


def describe_domain(d):
    return f"d{int(d['id'])} '{d['name'].string()}'"


def backend_name(vcpu):
    """vcpu->ops->name: "pv", "svm" or "vmx"."""
    return vcpu["ops"]["name"].string()


def exit_reason_names():
    """Names of enum vcpu_exit_reason in value order, as vcpu_exit_reason_name() prints them."""
    fields = gdb.lookup_type("enum vcpu_exit_reason").fields()
    return {int(f.enumval): f.name.replace("VCPU_EXIT_", "").lower() for f in fields}


def find_pointer_on_stack(type_name):
    """The first non-NULL argument or local of type @type_name in the selected frame or its
    callers, and a phrase saying where it was; (None, None) if there is none."""
    frame, depth = gdb.selected_frame(), 0
    while frame is not None:
        block = frame.block() if frame.function() else None
        while block is not None and not block.is_global:
            for sym in block:
                if (sym.is_argument or sym.is_variable) and str(sym.type.strip_typedefs()) == type_name:
                    value = sym.value(frame)
                    if u64(value):
                        return value, f"'{sym.name}' in {frame.name()} (frame #{depth})"
            block = block.superblock
        try:
            frame, depth = frame.older(), depth + 1
        except gdb.error:  # an unwinder gave up (assembly without CFI)
            break
    return None, None


def selected_vcpu(argument):
    """The vCPU a command is about: domain @argument's, else the running one, else the one being handled."""
    if argument:
        d = find_domain(argument)
        return d["vcpu"], f"{describe_domain(d)}->vcpu"
    current = gdb.parse_and_eval("boot_cpu.current_vcpu")
    if u64(current):
        return current, ("boot_cpu.current_vcpu: the guest is running, so these are the registers of its "
                         "last exit; the live ones are `info registers`")
    value, where = find_pointer_on_stack("struct vcpu *")
    if value is not None:
        # pv_run() sets current_vcpu only while the guest runs; between exits the
        # hypervisor passes the vCPU it is handling as an argument.
        return value, f"{where}; boot_cpu.current_vcpu is NULL: the guest is not running right now"
    raise gdb.GdbError("no vCPU here: boot_cpu.current_vcpu is NULL and no function on the stack has a "
                       "struct vcpu * (try `hv-vcpu 1` for domain d1's)")


# --- page-table walking -------------------------------------------------------------------
# A 48-bit virtual address is split 9+9+9+9+12: four table indexes and a page offset.
LEVELS = [("PML4", 39), ("PDPT", 30), ("PD", 21), ("PT", 12)]


def walk(vaddr, root, read_entry, show_table):
    """Walk the 4-level table at physical @root for @vaddr, printing each level.

    read_entry(table, index) reads one 8-byte entry of the table at @table;
    show_table(table) names that address (host tables: the physical address;
    guest tables: guest-physical and the host frame behind it). The walker is
    the same for the hypervisor's tables, a guest's own tables, and (lab 3)
    NPT, whose entries have this very format (APM Vol. 2 §15.25.5).
    Returns the address @vaddr translates to, or None if it is not mapped.
    """
    table = root & PTE_ADDR_MASK  # CR3 bits 11:0 are PCID/PWT/PCD, not address
    user = writable = executable = True
    for name, shift in LEVELS:
        index = vaddr >> shift & 0x1FF
        entry = read_entry(table, index)
        line = f"  {name:<4} [{index:3}] at {show_table(table)}: {entry:#018x} [ {bit_names(entry, PTE_BITS)} ]"
        if not entry & 1:
            # P=0: the CPU ignores every other bit and raises #PF (error code P=0).
            print(line + "  not present: a #PF for this address")
            return None
        user, writable = user and bool(entry & 4), writable and bool(entry & 2)
        executable = executable and not entry >> 63
        target = entry & PTE_ADDR_MASK
        if name == "PT" or (entry & 0x80 and name in ("PDPT", "PD")):
            # PS=1 in a PDPT (1 GiB) or PD (2 MiB) entry maps a large page: the walk stops.
            size = 1 << shift
            frame = target & ~(size - 1)
            label = {12: "4 KiB", 21: "2 MiB", 30: "1 GiB"}[shift]
            print(line + f"  -> {label} page at {frame:#x}")
            print(f"  effective: {'user' if user else 'supervisor-only'}, "
                  f"{'writable' if writable else 'read-only'}, {'executable' if executable else 'no-execute'}"
                  " (U and W must be set, NX clear, at every level: SDM Vol. 3A §4.6)")
            return frame + (vaddr & (size - 1))
        print(line + f"  -> next table at {target:#x}")
        table = target
    return None


def check_canonical(vaddr):
    # Bits 63:48 must copy bit 47 (SDM Vol. 1 §3.3.7.1); other addresses raise #GP, no walk at all.
    top = vaddr >> 47
    if top not in (0, 0x1FFFF):
        raise gdb.GdbError(f"{vaddr:#x} is not canonical: bits 63:48 must all equal bit 47")


def gpa_to_hpa(d, gpa):
    """domain_gpa_to_hpa() in Python: p2m[gpa / 4096] + offset, or None outside the domain."""
    if gpa >= int(d["memory_bytes"]):
        return None
    return int(d["p2m"][gpa // PAGE_SIZE]) + gpa % PAGE_SIZE


def guest_table_reader(d):
    """read_entry/show_table for tables that live in guest-physical memory (the guest's own CR3)."""
    def read_entry(table, index):
        hpa = gpa_to_hpa(d, table + 8 * index)
        if hpa is None:
            raise gdb.GdbError(f"guest table at {table:#x} lies outside the memory of {describe_domain(d)}")
        return read_phys_u64(hpa)

    def show_table(table):
        hpa = gpa_to_hpa(d, table)
        return f"gpa {table:#x} (hpa {hpa:#x})" if hpa is not None else f"gpa {table:#x} (outside)"
    return read_entry, show_table


# --- commands -----------------------------------------------------------------------------

class HypatiaCommand(gdb.Command):
    """Base: registers the command under its `name` and turns bad input into a GDB error."""
    name = None

    def __init__(self):
        super().__init__(self.name, gdb.COMMAND_USER)

    def invoke(self, argument, from_tty):
        try:
            self.run(gdb.string_to_argv(argument))
        except gdb.MemoryError as e:
            raise gdb.GdbError(f"{self.name}: cannot read memory ({e}); is paging on yet? "
                               "Stop in the hypervisor first (hbreak kmain, continue).")
        except gdb.error as e:  # no symbol file, a kernel without domains yet, ...
            raise gdb.GdbError(f"{self.name}: {e}")


class Domains(HypatiaCommand):
    """List the live domains: id, name, state, memory, paging mode, backend, exit code, exits.

Usage: hv-domains

One line per entry of domain_table (kernel/include/domain.h), then the vCPU's
exit counters that are not zero. An exit is one return from the guest to the
hypervisor: under the pv backend, every trap the guest takes at CPL 3 (a #GP
from a privileged instruction, a hypercall, the timer interrupt); under SVM
and VMX, every #VMEXIT (APM Vol. 2 §15.6, SDM Vol. 3C §27). vcpu_run_slice()
counts them by reason in vcpu->exits[] before handling each one."""
    name = "hv-domains"

    def run(self, argv):
        live = domains()
        slots = gdb.parse_and_eval("domain_table").type.range()[1] + 1
        print(f"{len(live)} domain(s) in domain_table (at most {slots}):")
        names = exit_reason_names()
        for d in live:
            vcpu = d["vcpu"]
            # Dom0 (lab 4), and a domain Dom0's builder made: paused until unpaused, no vCPU until
            # setvcpucontext.
            role = "  Dom0" if bool(d["privileged"]) else ""
            paused = f"  paused {int(d['pause_count'])}" if int(d["pause_count"]) else ""
            print(f"  {describe_domain(d)}{role}  state {enum_short(d['state'], 'DOMAIN_')}{paused}"
                  f"  memory {int(d['memory_bytes']) >> 10} KiB  paging {enum_short(d['paging'], 'PAGING_')}"
                  f"  backend {backend_name(vcpu) if int(vcpu) else '(no vCPU yet)'}"
                  f"  exit code {int(d['exit_code']):#x}  pml4 {int(d['pml4']):#x}")
            if not int(vcpu):
                continue
            exits = vcpu["exits"]
            counts = [f"{names.get(i, i)}={int(exits[i])}" for i in range(exits.type.range()[1] + 1)
                      if int(exits[i])]
            print(f"      exits: {' '.join(counts) or '(none yet)'}")


class Vcpu(HypatiaCommand):
    """Print a vCPU: registers, control registers, MSRs, and its last exit.

Usage: hv-vcpu [DOMAIN]

Without DOMAIN: the vCPU this CPU runs (boot_cpu.current_vcpu). pv_run() sets
that only while the guest runs; when it is NULL (GDB stopped in an exit
handler, say), the first struct vcpu * argument or local on the stack.
With DOMAIN (1 or d1): that domain's vCPU.

These are the guest's registers as the hypervisor keeps them in struct vcpu:
saved at the last exit, restored at the next entry. While the guest runs, the
CPU holds the live ones (GDB's `info registers`).
  rflags   the flags the guest believes it has. IF (bit 9) enables maskable
           interrupts, IOPL (bits 13:12) is the CPL that may do port I/O and
           CLI/STI (SDM Vol. 1 §3.4.3). Under pv the guest really runs with IF=1
           and IOPL=0, so the virtual IF below is what the guest set.
  cr0..cr8 the guest's view (SDM Vol. 3A §2.5): CR0.PG/PE paging and protection,
           CR2 the last #PF address, CR3 its page-table root, CR4.PAE/UMIP...,
           CR8 the task priority.
  efer     MSR 0xc0000080: LME/LMA long mode, NXE no-execute, SCE SYSCALL,
           SVME (AMD) SVM enable (APM Vol. 2 §3.1.7).
  gdtr/idtr what LGDT/LIDT loaded: base and limit (SDM Vol. 3A §2.4).
  xcr0     which register sets XSAVE manages and the guest may use (x87, SSE,
           AVX; SDM Vol. 1 §13.3), and from its save area (kernel/arch/xstate.c,
           legacy region, SDM Vol. 1 Table 10-2) the x87 control word and MXCSR
           as saved when its last slice ended: they are live in the CPU while
           it runs.
  last exit why the guest stopped last: reason, the vector and error code of
           the trap (SDM Vol. 3A §6.13), and CR2 for a #PF."""
    name = "hv-vcpu"

    def run(self, argv):
        vcpu, where = selected_vcpu(argv[0] if argv else None)
        d = vcpu["domain"]
        print(f"vCPU {int(vcpu['id'])} of {describe_domain(d)}, backend {backend_name(vcpu)} (from {where})")
        regs = vcpu["regs"]
        gprs = [f.name for f in regs.type.fields() if f.name not in ("rip", "rflags")]
        for i in range(0, len(gprs), 4):
            print("  " + "  ".join(f"{n:<3} {int(regs[n]):#018x}" for n in gprs[i:i + 4]))
        rip, rflags = int(regs["rip"]), int(regs["rflags"])
        print(f"  rip    {rip:#x}{symbol_for(rip)}")
        print(f"  rflags {flags(rflags, RFLAGS_BITS)} IOPL={rflags >> 12 & 3}")
        print(f"  virtual IF {int(vcpu['virtual_if'])}  (STI shadow {int(vcpu['sti_shadow'])}, "
              f"upcall vector {int(d['evtchn']['callback_vector'])}, shared info {int(d['shared_info_gpa']):#x})")
        print(f"  cr0 {flags(int(vcpu['cr0']), CR0_BITS)}")
        print(f"  cr2 {int(vcpu['cr2']):#x}  cr3 {int(vcpu['cr3']):#x}  cr8 {int(vcpu['cr8']):#x}")
        print(f"  cr4 {flags(int(vcpu['cr4']), CR4_BITS)}")
        print(f"  efer {flags(int(vcpu['efer']), EFER_BITS)}")
        for table in ("gdtr", "idtr"):
            print(f"  {table} base {int(vcpu[table]['base']):#x} limit {int(vcpu[table]['limit']):#x}", end="")
        print(f"  ldtr {int(vcpu['ldtr']):#x}  tr {int(vcpu['tr']):#x}")
        area = int(vcpu["xsave_area"])
        saved = ""
        if area:
            fcw = int(gdb.parse_and_eval(f"*(unsigned short *){area}"))
            mxcsr = int(gdb.parse_and_eval(f"*(unsigned int *){area + 24}"))
            saved = f"  saved: x87 control word {fcw:#06x}, mxcsr {mxcsr:#010x}"
        print(f"  xcr0 {flags(int(vcpu['xcr0']), XCR0_BITS)}{saved}")
        msrs = vcpu["msr"]
        names = [f.name for f in msrs.type.fields()]
        for i in range(0, len(names), 3):
            print("  " + "  ".join(f"{n} {int(msrs[n]):#x}" for n in names[i:i + 3]))
        print(f"  halted {int(vcpu['halted'])}  yielded {int(vcpu['yielded'])}")
        print_last_exit(vcpu["exit"])


def print_last_exit(exit):
    if int(exit["reason"]) == 0:  # VCPU_EXIT_NONE: never ran, or nothing to handle
        print("  last exit: none")
        return
    vector = int(exit["vector"])
    line = f"  last exit: {enum_short(exit['reason'], 'VCPU_EXIT_')}, vector {vector} ({vector_name(vector)})"
    if exit["has_error_code"]:
        error = int(exit["error_code"])
        line += f", error code {error:#x}"
        if vector == 14:
            line += f" [ {bit_names(error, PF_ERROR_BITS) or 'not-present read from CPL 0'} ]"
    print(line + f", fault address {int(exit['fault_address']):#x}")


class PageWalk(HypatiaCommand):
    """Walk a 4-level x86-64 page table for a virtual address, printing each level.

Usage: hv-pagewalk ADDR [CR3]        the table at CR3 (default: the CPU's CR3 now)
       hv-pagewalk ADDR --domain N   the address space domain N runs in (domain->pml4)
       hv-pagewalk ADDR --guest N    domain N's own tables, rooted at its vCPU's CR3
                                     (guest-physical; each table read through the p2m)

The CPU translates a 48-bit virtual address by splitting it into four 9-bit
indexes and a 12-bit offset: bits 47:39 pick a PML4 entry, 38:30 a PDPT entry,
29:21 a PD entry, 20:12 a PT entry (SDM Vol. 3A §4.5, APM Vol. 2 §5.3). Each
entry holds the physical address of the next table (bits 51:12) and flags:
  P   present; if 0 the walk stops with a #PF
  W   writes allowed        U   CPL 3 may access (U/S)
  A   set by the CPU when the entry is used;  D  set on a write (last level)
  PS  in a PDPT/PD entry: this entry maps a 1 GiB / 2 MiB page, the walk ends
  G   global: the TLB keeps it across CR3 loads (with CR4.PGE)
  NX  no instruction fetch (with EFER.NXE)
The hypervisor's upper half (PML4 entries 256-511) is shared by every address
space. Tables are read at DIRECT_MAP_BASE + physical address."""
    name = "hv-pagewalk"

    def run(self, argv):
        if not argv or len(argv) > 3:
            raise gdb.GdbError("usage: hv-pagewalk ADDR [CR3 | --domain N | --guest N]")
        vaddr = evaluate(argv[0])
        check_canonical(vaddr)
        # Host tables (the hypervisor's, a domain's): entries at physical table + 8 * index.
        read_entry, show_table, guest = lambda table, i: read_phys_u64(table + 8 * i), hex, None
        if len(argv) == 3 and argv[1] == "--domain":
            d = find_domain(argv[2])
            root, what = int(d["pml4"]), f"the address space of {describe_domain(d)} (domain->pml4)"
        elif len(argv) == 3 and argv[1] == "--guest":
            guest = find_domain(argv[2])
            root = int(guest["vcpu"]["cr3"])
            if not root:
                raise gdb.GdbError(f"{describe_domain(guest)} has not loaded a CR3 of its own (its view is 0)")
            read_entry, show_table = guest_table_reader(guest)
            what = f"the tables of {describe_domain(guest)} itself (its vCPU's CR3, guest-physical)"
        elif len(argv) == 2:
            root, what = evaluate(argv[1]), "the given CR3"
        else:
            if not evaluate("$cr0") >> 31 & 1:
                raise gdb.GdbError("paging is off (CR0.PG=0): addresses are physical, there is no table to walk")
            root, what = evaluate("$cr3"), "the CPU's CR3"
        print(f"walk of {vaddr:#x} in {what}, CR3 {root:#x}")
        result = walk(vaddr, root, read_entry, show_table)
        if result is None:
            print(f"=> {vaddr:#x} is not mapped")
        elif guest is not None:
            hpa = gpa_to_hpa(guest, result)
            host = f"{hpa:#x}" if hpa is not None else "none: outside the domain's memory"
            print(f"=> virtual {vaddr:#x} -> guest-physical {result:#x} -> host-physical {host}")
        else:
            print(f"=> virtual {vaddr:#x} -> physical {result:#x}")


class GpaToHpa(HypatiaCommand):
    """Translate a guest-physical address of a domain to host-physical, through its p2m.

Usage: hv-gpa2hpa DOMAIN GPA

A guest believes it owns physical memory from 0 to mem=. The hypervisor gives
it scattered host frames instead and records them in domain->p2m ("physical to
machine", Xen's name): p2m[GPA / 4096] is the host frame of guest frame
GPA / 4096, and the offset within the page is kept. This is what
domain_gpa_to_hpa() computes; nested paging (lab 3) makes the hardware do it."""
    name = "hv-gpa2hpa"

    def run(self, argv):
        if len(argv) != 2:
            raise gdb.GdbError("usage: hv-gpa2hpa DOMAIN GPA")
        d, gpa = find_domain(argv[0]), evaluate(argv[1])
        hpa = gpa_to_hpa(d, gpa)
        if hpa is None:
            print(f"{describe_domain(d)}: gpa {gpa:#x} is outside its {int(d['memory_bytes']) >> 10} KiB")
            return
        gfn = gpa // PAGE_SIZE
        print(f"{describe_domain(d)}: gpa {gpa:#x} = frame {gfn:#x} + offset {gpa % PAGE_SIZE:#x}; "
              f"p2m[{gfn:#x}] = {hpa - gpa % PAGE_SIZE:#x} => hpa {hpa:#x}")


class TrapFrame(HypatiaCommand):
    """Print a saved struct trap_frame (kernel/include/trap.h).

Usage: hv-trapframe [ADDR]     default: a struct trap_frame * on the stack (frame, f)

Every interrupt and exception enters through one stub (arch/trap_entry.S).
The CPU pushes SS, RSP, RFLAGS, CS, RIP and, for some vectors, an error code
(SDM Vol. 3A §6.14.2); the stub pushes the vector and the general-purpose
registers below them. CS bits 1:0 are the CPL of the interrupted code: 3 means
a PV guest trapped, 0 the hypervisor itself."""
    name = "hv-trapframe"

    def run(self, argv):
        pointer_type = gdb.lookup_type("struct trap_frame").pointer()
        if argv:
            frame = gdb.Value(evaluate(argv[0])).cast(pointer_type)
        else:
            frame, _ = find_pointer_on_stack("struct trap_frame *")
            if frame is None:
                raise gdb.GdbError("no struct trap_frame * on the stack here: give its address")
        f = frame.dereference()
        vector, error, cs = int(f["vector"]), int(f["error"]), int(f["cs"])
        print(f"trap frame at {u64(frame):#x}: vector {vector} ({vector_name(vector)}), error {error:#x}"
              + (f" [ {bit_names(error, PF_ERROR_BITS)} ]" if vector == 14 else ""))
        names = [fl.name for fl in f.type.fields()][:15]
        for i in range(0, len(names), 4):
            print("  " + "  ".join(f"{n:<3} {int(f[n]):#018x}" for n in names[i:i + 4]))
        print(f"  rip {int(f['rip']):#x}{symbol_for(int(f['rip']))}  cs {cs:#x} (CPL {cs & 3}: "
              f"{'a PV guest was running' if cs & 3 == 3 else 'the hypervisor was running'})")
        print(f"  rflags {flags(int(f['rflags']), RFLAGS_BITS)}  rsp {int(f['rsp']):#x}  ss {int(f['ss']):#x}")


# --- hardware-assisted backends (lab 3) ---------------------------------------------------
# When svm/ and vmx/ land, a vCPU on them has vcpu->ops->name "svm"/"vmx" and its
# vcpu->backend points at the backend's state; BACKEND_STATE names that type.
BACKEND_STATE = {"pv": "struct pv_state", "svm": "struct svm_state", "vmx": "struct vmx_state"}


class ControlBlock(HypatiaCommand):
    """Base of hv-vmcb / hv-vmcs: print the state of every vCPU on one backend."""
    backend = what = None

    def run(self, argv):
        vcpus = [d["vcpu"] for d in domains() if backend_name(d["vcpu"]) == self.backend]
        if not vcpus:
            now = ", ".join(f"{describe_domain(d)} {backend_name(d['vcpu'])}" for d in domains())
            print(f"no {self.backend.upper()} vCPU is running (the {self.backend} backend arrives in lab 3); "
                  f"backends now: {now or 'no domains'}")
            return
        state_type = gdb.lookup_type(BACKEND_STATE[self.backend]).pointer()
        for vcpu in vcpus:
            state = vcpu["backend"].cast(state_type).dereference()
            print(f"{describe_domain(vcpu['domain'])}: {self.what}")
            print(state)
            self.decode(state)

    def decode(self, state):
        """Print the control block's fields, where its layout is documented."""


class Vmcb(ControlBlock):
    """Print the VMCB of each SVM vCPU (lab 3).

Usage: hv-vmcb

The VMCB (Virtual Machine Control Block, AMD APM Vol. 2 §15.5 and Appendix B)
is one 4 KiB page in memory: the control area (intercepts, ASID, EXITCODE,
EXITINFO1/2, event injection) and the state-save area (the guest's segment
registers, CR0/3/4, EFER, RIP, RSP, RAX). VMRUN loads the guest from it;
#VMEXIT writes the guest back and the reason into EXITCODE."""
    name, backend, what = "hv-vmcb", "svm", "the SVM backend state and its VMCB"

    # (offset, name, what it means) — APM Vol. 2, Tables B-1 and B-2.
    FIELDS = (
        (0x00c, "intercept misc1", "INTR, NMI, VINTR, CPUID, HLT, IOIO, MSR, SHUTDOWN ... (u32)"),
        (0x010, "intercept misc2", "VMRUN, VMMCALL, VMLOAD, ... (u32)"),
        (0x058, "asid", "address-space ID (u32)"),
        (0x060, "vintr", "V_TPR, V_IRQ (bit 8), V_INTR_MASKING (bit 24), vector (39:32)"),
        (0x068, "interrupt shadow", "bit 0: in an STI/MOV SS shadow"),
        (0x070, "exitcode", "why the guest last exited (Appendix C)"),
        (0x078, "exitinfo1", "IOIO: port 31:16, size, direction; MSR: 0 read / 1 write"),
        (0x080, "exitinfo2", "IOIO: next RIP; NPF: guest-physical address"),
        (0x088, "exitintinfo", "an event cut short by the exit (valid: bit 31)"),
        (0x090, "np_enable", "bit 0: nested paging"),
        (0x0a8, "eventinj", "event to inject at the next VMRUN (valid: bit 31)"),
        (0x0b0, "n_cr3", "nested page table root (host-physical)"),
        (0x4d0, "efer", "guest EFER (SVME set: VMRUN requires it)"),
        (0x548, "cr4", "guest CR4"), (0x550, "cr3", "guest CR3 (guest-physical)"), (0x558, "cr0", "guest CR0"),
        (0x570, "rflags", "guest RFLAGS"), (0x578, "rip", "guest RIP"), (0x5d8, "rsp", "guest RSP"),
        (0x5f8, "rax", "guest RAX"),
    )
    U32_FIELDS = (0x00c, 0x010, 0x058)

    def decode(self, state):
        vmcb = u64(state["vmcb"])
        print(f"  VMCB at 0x{vmcb:x} (host-physical 0x{u64(state['vmcb_pa']):x}):")
        for offset, field, meaning in self.FIELDS:
            value = read_u64(vmcb + offset)
            if offset in self.U32_FIELDS:
                value &= 0xffffffff
            print(f"    +0x{offset:03x} {field:<17} 0x{value:016x}  {meaning}")
        cs = read_u64(vmcb + 0x410)
        print(f"    +0x410 cs selector 0x{cs & 0xffff:04x} attributes 0x{(cs >> 16) & 0xffff:03x}"
              f"  (type/S/DPL/P in 7:0, AVL/L/D/G in 11:8)")


class Vmcs(ControlBlock):
    """Print the VMCS of each VMX vCPU, as the hypervisor sees it (lab 3).

Usage: hv-vmcs

The VMCS (SDM Vol. 3C §25) has no documented memory layout: software reads and
writes it only with VMREAD/VMWRITE, so a debugger cannot decode the region.
This command prints the copy of the fields the VMX backend keeps (guest state,
exit reason, exit qualification) in its own state."""
    name, backend, what = "hv-vmcs", "vmx", "the VMX backend state (its view of the VMCS)"


COMMANDS = (Domains, Vcpu, PageWalk, GpaToHpa, TrapFrame, Vmcb, Vmcs)


class Overview(HypatiaCommand):
    """List the kit's hv-* commands. `help hv-NAME` explains one."""
    name = "hv"

    def run(self, argv):
        for command in COMMANDS:
            print(f"  {command.name:<13} {command.__doc__.splitlines()[0]}")
        print("`help hv-NAME` says what each field means and where the manuals define it.")


for command in COMMANDS + (Overview,):
    command()
