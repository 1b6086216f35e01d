#!/usr/bin/env bash
# Makes the bootable ISO: GRUB (BIOS, i386-pc only) loading kernel.elf with
# multiboot2, serial terminal, no menu delay. Reproducible: every date xorriso
# would stamp is pinned through SOURCE_DATE_EPOCH, and the staging tree's
# file dates are pinned too.
# Usage: make_iso.sh KERNEL_ELF OUT_ISO CMDLINE SOURCE_DATE_EPOCH [LOADER [MODULE...]]
# LOADER is GRUB's command, multiboot2 (default) or multiboot: the latter
# only for the boot test that checks the kernel refuses a multiboot1 start.
# Each MODULE is loaded with a `module2` line ([mb2] 3.6.6), its string
# being its file name (multiboot2 only).
set -euo pipefail
kernel=$1 out=$2 cmdline=$3 epoch=$4 loader=${5:-multiboot2}
modules=("${@:6}")
case $loader in multiboot2|multiboot) ;; *) echo "make_iso: unknown loader '$loader'" >&2; exit 2 ;; esac
if [ ${#modules[@]} -gt 0 ] && [ "$loader" != multiboot2 ]; then
  echo "make_iso: modules need the multiboot2 loader" >&2
  exit 2
fi

for tool in grub-mkrescue xorriso mformat; do
  if ! command -v "$tool" >/dev/null; then
    echo "make_iso: '$tool' not found; run tools/bazel (it installs grub-pc-bin, grub-common, xorriso, mtools)" >&2
    exit 1
  fi
done
grub_dir=/usr/lib/grub/i386-pc
[ -d "$grub_dir" ] || { echo "make_iso: $grub_dir missing; install grub-pc-bin" >&2; exit 1; }

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/iso/boot/grub"
cp "$kernel" "$stage/iso/boot/kernel.elf"
# Each module loads only if everything before it did: `if` nests.
module_ifs="" module_fis=""
for m in "${modules[@]+"${modules[@]}"}"; do
  name=$(basename "$m")
  mkdir -p "$stage/iso/boot/modules"
  cp "$m" "$stage/iso/boot/modules/$name"
  module_ifs+="    if module2 /boot/modules/$name $name; then"$'\n'
  module_fis+="    fi"$'\n'
done
# A kernel or module GRUB cannot load (too little memory: `error: out of
# memory`) must end the run, not leave GRUB waiting at its menu: a message,
# then isa-debug-exit's port, where QEMU exits (0x12 << 1) | 1 = 37
# (src/arch/qemu_exit_codes.h, ExitCode::kLoaderFailed), then, on a machine
# without that device, `halt` (APM power-off, else GRUB stops). iorw
# (outb) and halt are loaded first, while GRUB's memory is still free.
cat > "$stage/iso/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
insmod iorw
insmod halt
set timeout=0
set default=0
menuentry "biscotti" {
  if $loader /boot/kernel.elf $cmdline; then
${module_ifs}    boot
${module_fis}  fi
  echo "biscotti: GRUB could not load the kernel (its error is above); stopping"
  outb 0xf4 0x12
  halt
}
CFG
find "$stage/iso" -exec touch -h -d "@$epoch" {} +

export SOURCE_DATE_EPOCH=$epoch
# grub-mkrescue stages GRUB's own files in TMPDIR; keep them in our tree.
export TMPDIR=$stage
# xorriso (through grub-mkrescue's mkisofs emulation) stamps the volume
# dates and the dates of the files GRUB generates with the current time
# unless told otherwise; SOURCE_DATE_EPOCH alone does not reach it here.
stamp=$(date -u -d "@$epoch" +%Y%m%d%H%M%S00)
if ! grub-mkrescue -d "$grub_dir" -o "$stage/out.iso" "$stage/iso" \
    --modification-date="$stamp" --set_all_file_dates "$stamp" >"$stage/log" 2>&1; then
  cat "$stage/log" >&2
  exit 1
fi
cp "$stage/out.iso" "$out"
