# Kernel-aware gdb commands for biscotti (README, "Debugging with gdb").
#
#   bthreads   every live thread: id, name, state, the CPU it is on (or last ran on)
#   bcpu N     CPU N's per-CPU block (arch::PerCpu) and its scheduler block
#   bbt TID    a thread's backtrace: from the vCPU's registers if it is on a
#              CPU, else from the frame switch_context saved on its stack
#   bmem       the page allocator's and the heap's figures
#
# Load with `source tools/gdb/biscotti.py` after `file bazel-bin/kernel.debug.elf`
# (the kernel with its DWARF). Everything is read through the kernel's own
# types and symbols (gdb.parse_and_eval, gdb.lookup_type), so a field that
# moves or is added needs no change here; only the names below are assumed.
# Nothing writes to the target or calls into it: the vCPUs stay as they
# were stopped.

import gdb

# The kernel's symbols this file reads (each defined where it is named).
_THREADS = "'sched::(anonymous namespace)::all_'"  # src/sched/thread.cc: live threads
_CPU_BLOCKS = "'arch::(anonymous namespace)::blocks'"  # src/arch/smp_boot.cc: PerCpu by index
_CPUS_PLANNED = "'arch::(anonymous namespace)::planned'"  # CPUs given an index
_CPU_SCHED = "'sched::internal::cpu_sched'"  # src/sched/scheduler.cc: CpuSched by index (sched_cpu.h)
_SCHED_NCPU = "'sched::internal::cpu_sched_count'"
_PHYS = "'mm::(anonymous namespace)::phys'"  # src/mm/page_alloc.cc: the buddy allocator
_PAGE_CACHES = "'mm::(anonymous namespace)::caches'"  # its per-CPU page caches
_POISON = "'mm::(anonymous namespace)::poison_mode'"
_HEAP = "'mm::(anonymous namespace)::central'"  # src/mm/kmalloc.cc: the heap's central
_HUGE_OBJECTS = "'mm::(anonymous namespace)::huge_objects'"
_HUGE_BYTES = "'mm::(anonymous namespace)::huge_bytes'"

# A corrupted list must not hang gdb: no boot has anywhere near this many.
_MAX_THREADS = 1 << 20
# Frames bbt follows on a switched-out stack before it gives up.
_MAX_FRAMES = 64
# switch_context's saved frame (src/sched/switch.cc): rbp, then the return
# address, from saved_rsp upwards.
_SWITCH_FRAME_RBP = 0
_SWITCH_FRAME_RET = 1

_U64 = (1 << 64) - 1


class UserError(gdb.GdbError):
    """A bad argument or a kernel state the command cannot read."""


class _Command(gdb.Command):
    """A command whose reads of kernel memory may fail: the target can be
    stopped anywhere, a list mid-update included. Such a failure is named
    as one, not shown as a Python traceback."""

    def __init__(self, name, command_class):
        super().__init__(name, command_class)
        self._name = name

    def invoke(self, arg, from_tty):
        try:
            self.run(arg)
        except gdb.MemoryError as e:
            raise UserError(
                "%s: %s (a pointer the kernel was changing when it stopped, or memory not mapped yet)" % (self._name, e)
            )


def _eval(expr, what):
    try:
        return gdb.parse_and_eval(expr)
    except gdb.error as e:
        raise UserError(
            "biscotti: cannot read %s (%s): %s. Load the kernel with its DWARF: "
            "`file bazel-bin/kernel.debug.elf`" % (what, expr, e)
        )


def _plain(v):
    """The value of a base::Atomic<T> (its v_), of a strong type (CpuIndex,
    ApicId, Vector: one field, `value`), or of a plain field."""
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_STRUCT:
        names = [f.name for f in t.fields() if not f.is_base_class]
        if "v_" in names:
            return v["v_"]
        if names == ["value"]:
            return v["value"]
    return v


def _int(v):
    return int(_plain(v))


def _addr(v):
    return int(v.cast(gdb.lookup_type("unsigned long"))) & _U64


def _read_u64(addr):
    mem = gdb.selected_inferior().read_memory(addr, 8)
    return int.from_bytes(bytes(mem), "little")


def _parse_int(arg, command, what):
    words = gdb.string_to_argv(arg)
    if len(words) != 1:
        raise UserError("usage: %s %s" % (command, what))
    try:
        return int(words[0], 0)
    except ValueError:
        raise UserError("%s: '%s' is not a number (usage: %s %s)" % (command, words[0], command, what))


def _no_args(arg, command):
    if gdb.string_to_argv(arg):
        raise UserError("%s takes no arguments" % command)


def _cpu_count():
    return _int(_eval(_CPUS_PLANNED, "the number of CPUs"))


def _idle_threads():
    """{thread address: CPU} for every CPU's idle thread."""
    cpus = _eval(_CPU_SCHED, "the per-CPU scheduler blocks")
    n = _int(_eval(_SCHED_NCPU, "the scheduler's CPU count"))
    idle = {}
    for i in range(n):
        p = cpus[i]["idle"]
        if _addr(p) != 0:
            idle[_addr(p)] = i
    return idle


def _threads():
    """Every live thread (gdb Values of sched::Thread), newest first."""
    t = _eval(_THREADS, "the thread list")
    out = []
    seen = set()
    while _addr(t) != 0:
        if _addr(t) in seen or len(out) >= _MAX_THREADS:
            raise UserError("biscotti: the thread list loops or is corrupted at %#x" % _addr(t))
        seen.add(_addr(t))
        out.append(t.dereference())
        t = t["all_next"]
    return out


def _state_name(thread):
    # "sched::ThreadState::kBlocked" -> "blocked", by the enum's own names.
    state = _plain(thread["state"])
    enum = gdb.lookup_type("sched::ThreadState")
    name = str(state.cast(enum)).split("::")[-1]
    return name[1:].lower() if name.startswith("k") else name


def _shown_state(thread, idle):
    # As the monitor's `threads`: a CPU's idle thread is "idle", not "running".
    state = _state_name(thread)
    return "idle" if _addr(thread.address) in idle and state == "running" else state


def _on_cpu(thread):
    """The CPU the thread is on (claimed from pick until off its stack), or None."""
    claimed = _int(thread["on_cpu"])
    return claimed - 1 if claimed != 0 else None


def _name(thread):
    return thread["name"].string(length=gdb.lookup_type("sched::Thread")["name"].type.sizeof).split("\0")[0]


def _find_thread(tid):
    for t in _threads():
        if _int(t["tid"]) == tid:
            return t
    return None


class BThreads(_Command):
    """bthreads: every live kernel thread with its id, name, state and CPU.

STATE is the thread's (a CPU's idle thread shows idle while it runs); CPU
is the one it is on now, or - ; LAST is the CPU it last ran on."""

    def __init__(self):
        super().__init__("bthreads", gdb.COMMAND_DATA)

    def run(self, arg):
        _no_args(arg, "bthreads")
        idle = _idle_threads()
        threads = _threads()
        print("%5s  %-23s  %-8s  %3s  %4s  %s" % ("TID", "NAME", "STATE", "CPU", "LAST", "THREAD"))
        for t in sorted(threads, key=lambda t: _int(t["tid"])):
            state = _shown_state(t, idle)
            cpu = _on_cpu(t)
            print(
                "%5d  %-23s  %-8s  %3s  %4d  %#x"
                % (_int(t["tid"]), _name(t), state, "-" if cpu is None else cpu, _int(t["last_cpu"]), _addr(t.address))
            )
        print("%d threads" % len(threads))


def _vcpu_of(cpu):
    """The gdb thread (a QEMU vCPU) whose GS base is CPU `cpu`'s block, or None."""
    block = _addr(_eval(_CPU_BLOCKS, "the per-CPU blocks")[cpu].address)
    for th in gdb.selected_inferior().threads():
        if _gs_base(th) == block:
            return th
    return None


def _gs_base(th):
    prev = gdb.selected_thread()
    try:
        th.switch()
        return int(gdb.selected_frame().read_register("gs_base")) & _U64
    except gdb.error:
        return None
    finally:
        if prev is not None:
            prev.switch()


def _describe_thread_ptr(p):
    if _addr(p) == 0:
        return "null"
    t = p.dereference()
    return "%#x (tid %d '%s')" % (_addr(p), _int(t["tid"]), _name(t))


class BCpu(_Command):
    """bcpu N: CPU N's per-CPU block (arch::PerCpu) and scheduler block (sched::CpuSched)."""

    def __init__(self):
        super().__init__("bcpu", gdb.COMMAND_DATA)

    def run(self, arg):
        cpu = _parse_int(arg, "bcpu", "N")
        n = _cpu_count()
        if cpu < 0 or cpu >= n:
            raise UserError("bcpu: no CPU %d: this boot has %d (0 to %d)" % (cpu, n, n - 1))
        block = _eval(_CPU_BLOCKS, "the per-CPU blocks")[cpu]
        vcpu = _vcpu_of(cpu)
        print(
            "CPU %d: arch::PerCpu at %#x, %s"
            % (cpu, _addr(block.address), "gdb thread %d" % vcpu.num if vcpu else "no vCPU has it as its GS base")
        )
        thread_ptr = gdb.lookup_type("sched::Thread").pointer()
        for f in block.type.strip_typedefs().fields():
            if f.is_base_class or f.artificial:
                continue
            v = block[f.name]
            if v.type.strip_typedefs() == thread_ptr.strip_typedefs():
                text = _describe_thread_ptr(v)
            else:
                text = str(_plain(v))
            print("  %-16s %s" % (f.name, text))
        sched = block["sched"]
        if _addr(sched) == 0:
            print("  (no scheduler block: this CPU has not started scheduling)")
            return
        s = sched.dereference()
        print("sched::CpuSched at %#x:" % _addr(sched))
        print("  %-16s %s" % ("idle", _describe_thread_ptr(s["idle"])))
        for name in ("running", "need_resched", "switches", "preemptions", "steals", "timer_interrupts", "idle_tsc"):
            print("  %-16s %s" % (name, _plain(s[name])))
        print("  %-16s %d" % ("bound_queued", _int(s["bound"]["n_"])))


def _symbolize(pc):
    """'function (file:line)' for a return address (looked up at pc - 1, the
    call), inlined callers named too; else the ELF symbol."""
    # A return address follows its call, which may end its function: look
    # up the byte before it. A function's first byte (a new thread's first
    # "return", into thread_entry_trampoline) is looked up as it is.
    at = gdb.execute("info symbol %#x" % pc, to_string=True)
    look = pc if at.split(" in section")[0].find(" + ") < 0 and not at.startswith("No symbol") else pc - 1
    names = []
    try:
        block = gdb.block_for_pc(look)
    except RuntimeError:
        block = None
    while block is not None:
        if block.function is not None:
            names.append(block.function.print_name)
        block = block.superblock
    sal = gdb.find_pc_line(look)
    where = ""
    if sal.symtab is not None:
        where = " at %s:%d" % (sal.symtab.filename, sal.line)
    if names:
        text = names[0]
        if len(names) > 1:
            text += " (inlined into %s)" % names[-1]
        return text + where
    sym = gdb.execute("info symbol %#x" % look, to_string=True).strip()
    if sym.startswith("No symbol"):
        return "??"
    return sym.split(" in section")[0] + where


class BBt(_Command):
    """bbt TID: the backtrace of kernel thread TID (bthreads lists the ids).

A thread on a CPU is shown from that vCPU's registers (gdb's own bt); a
switched-out one from the frame switch_context saved on its stack, then
its frame-pointer chain (the kernel keeps frame pointers)."""

    def __init__(self):
        super().__init__("bbt", gdb.COMMAND_STACK)

    def run(self, arg):
        tid = _parse_int(arg, "bbt", "TID")
        t = _find_thread(tid)
        if t is None:
            raise UserError("bbt: no live thread has id %d (bthreads lists them)" % tid)
        cpu = _on_cpu(t)
        if cpu is not None:
            self._on_cpu(t, tid, cpu)
        else:
            self._switched_out(t, tid)

    def _on_cpu(self, t, tid, cpu):
        vcpu = _vcpu_of(cpu)
        if vcpu is None:
            raise UserError("bbt: thread %d is on CPU %d, but no vCPU has CPU %d's GS base" % (tid, cpu, cpu))
        print("thread %d '%s' is on CPU %d (gdb thread %d), from its registers:" % (tid, _name(t), cpu, vcpu.num))
        prev = gdb.selected_thread()
        try:
            vcpu.switch()
            gdb.execute("bt %d" % _MAX_FRAMES)
        finally:
            prev.switch()

    def _switched_out(self, t, tid):
        rsp = _int(t["saved_rsp"])
        lo, hi = _int(t["stack_lo"]), _int(t["stack_hi"])
        if rsp == 0:
            raise UserError("bbt: thread %d '%s' has no saved frame (it never switched out)" % (tid, _name(t)))
        if hi != 0 and not lo <= rsp < hi:
            raise UserError("bbt: thread %d's saved RSP %#x lies outside its stack [%#x, %#x)" % (tid, rsp, lo, hi))
        state = _shown_state(t, _idle_threads())
        print("thread %d '%s' is %s, from its switch frame at %#x:" % (tid, _name(t), state, rsp))
        print("#0  switch_context")
        rbp = _read_u64(rsp + 8 * _SWITCH_FRAME_RBP)
        pc = _read_u64(rsp + 8 * _SWITCH_FRAME_RET)
        n = 1
        while True:
            print("#%-2d %#x in %s" % (n, pc, _symbolize(pc)))
            n += 1
            # rbp == 0 ends every thread's chain (initial_stack); a frame
            # outside the stack ends the boot thread's.
            if rbp == 0 or (hi != 0 and not lo <= rbp < hi) or rbp % 8 != 0:
                break
            if n > _MAX_FRAMES:
                print("(more frames not shown)")
                break
            pc = _read_u64(rbp + 8)
            rbp = _read_u64(rbp)


class BMem(_Command):
    """bmem: the page allocator's and the heap's figures (as `mem` prints them)."""

    def __init__(self):
        super().__init__("bmem", gdb.COMMAND_DATA)

    def run(self, arg):
        _no_args(arg, "bmem")
        page = 4096  # base::kPageSize
        stats = _eval(_PHYS, "the page allocator")["stats_"]
        caches = _eval(_PAGE_CACHES, "the per-CPU page caches")
        cached = sum(_int(caches[i]["count"]) for i in range(_cpu_count()))
        managed = _int(stats["total_pages"])
        free = _int(stats["free_pages"]) + cached
        print(
            "pages: %d managed (%d KiB), %d free (%d KiB; %d in per-CPU caches), %d quarantined, "
            "%d poison failures, poison checking %s"
            % (
                managed,
                managed * page // 1024,
                free,
                free * page // 1024,
                cached,
                _int(stats["quarantined_pages"]),
                _int(stats["poison_failures"]),
                "on" if bool(_eval(_POISON, "the poison mode")) else "off",
            )
        )
        blocks = stats["free_blocks"]
        orders = blocks.type.strip_typedefs().range()
        per_order = ("%d:%d" % (o, _int(blocks[o])) for o in range(orders[0], orders[1] + 1))
        print("free blocks by order: " + " ".join(per_order))

        core = _eval(_HEAP, "the heap")["core_"]
        live = self._class_live(core)
        classes = core["classes_"]
        # As heap_stats: a class's count can be transiently negative (an
        # object freed on one CPU before its allocation on another is seen).
        small_objects = sum(max(v, 0) for v in live)
        span_pages = _int(core["span_pages_"])
        large_pages = _int(core["large_pages_"])
        meta_pages = _int(core["slab_pages_"]) + _int(core["map_"]["node_pages_"])
        print(
            "heap: %d small objects live, %d large (%d pages), %d huge (%d bytes); "
            "pages held %d (spans %d, metadata %d); central free objects %d"
            % (
                small_objects,
                _int(core["large_objects_"]),
                large_pages,
                _int(_eval(_HUGE_OBJECTS, "the huge-object count")),
                _int(_eval(_HUGE_BYTES, "the huge-object bytes")),
                span_pages + large_pages + meta_pages,
                span_pages,
                meta_pages,
                sum(_int(classes[c]["central_free"]) for c in range(len(live))),
            )
        )

    @staticmethod
    def _class_live(core):
        # As HeapCore::heap_stats: the retired counts plus every attached cache's.
        retired = core["retired_live_"]
        lo, hi = retired.type.strip_typedefs().range()
        live = [int(retired[c]) for c in range(lo, hi + 1)]
        c = core["caches_"]
        seen = set()
        while _addr(c) != 0 and _addr(c) not in seen:
            seen.add(_addr(c))
            for cls in range(len(live)):
                live[cls] += int(_plain(c["live"][cls]))
            c = c["next"]
        return live


BThreads()
BCpu()
BBt()
BMem()
print("biscotti: bthreads, bcpu N, bbt TID, bmem (help <command> for each)")
