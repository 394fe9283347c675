#!/usr/bin/env python3
"""Instruction lengths from an independent decoder (binutils objdump), on demand only.

Decodes a stream of random bytes with objdump in 64-, 32- and 16-bit mode; every instruction it
accepts becomes one line "<15 bytes from its start in hex> <length>" in
cpu/src/test/resources/vectors/lengths-<bits>.txt.gz, checked by DecoderLengthTest. Lines objdump
marks "(bad)" are dropped. 64-bit mode uses -M intel64 (Intel's rules for 66H with near branches).

Usage: tools/gen-vectors/gen-lengths.py [bytes-per-mode]
"""
import gzip
import os
import random
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODES = {64: ['-m', 'i386:x86-64', '-M', 'intel64'], 32: ['-m', 'i386'], 16: ['-m', 'i8086']}
PREFIXES = {'cs', 'ds', 'es', 'ss', 'fs', 'gs', 'data16', 'data32', 'addr16', 'addr32', 'lock', 'rep',
            'repz', 'repnz', 'repe', 'repne', 'bnd', 'notrack', 'xacquire', 'xrelease'}
LINE = re.compile(r'^\s*([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t?(.*)$')


def stream(r, n):
    out = bytearray()
    while len(out) < n:
        k = r.random()
        if k < 0.35:
            out += bytes([0x0F])
        elif k < 0.4:
            out += bytes([0x0F, r.choice([0x38, 0x3A])])
        elif k < 0.5:
            out += bytes([r.choice([0x66, 0x67, 0xF2, 0xF3, 0x2E, 0x64, 0xF0])])
        elif k < 0.6:
            out += bytes([r.randrange(0x40, 0x50)])
        out += bytes(r.getrandbits(8) for _ in range(r.randrange(1, 8)))
    return bytes(out[:n])


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
    r = random.Random(4242)
    for bits, args in MODES.items():
        data = stream(r, n)
        with tempfile.NamedTemporaryFile(suffix='.bin') as f:
            f.write(data)
            f.flush()
            dump = subprocess.run(['objdump', '-D', '-b', 'binary', '-w', '--insn-width=16'] + args + [f.name],
                                  capture_output=True, text=True, check=True).stdout
        rows = []
        for line in dump.splitlines():
            m = LINE.match(line)
            if not m:
                continue
            off = int(m.group(1), 16)
            length = len(m.group(2).split())
            text = m.group(3)
            if '(bad)' in text or off + 15 > len(data):
                continue
            first = text.split()[0] if text else ''
            # objdump prints an ignored REX or a dangling prefix as an instruction of its own, and
            # joins FWAIT with a following x87 opcode: neither is how the processor counts length.
            if first.startswith('rex') or first in PREFIXES or (data[off] == 0x9B and length > 1):
                continue
            rows.append(f'{data[off:off + 15].hex()} {length}  {text.split()[0] if text else ""}')
        out = os.path.join(ROOT, f'cpu/src/test/resources/vectors/lengths-{bits}.txt.gz')
        with gzip.open(out, 'wt') as g:
            g.write(f'# objdump {" ".join(args)} over random bytes: 15 bytes, length, mnemonic (gen-lengths.py)\n')
            g.write('\n'.join(rows) + '\n')
        print(f'{bits}-bit: {len(rows)} instructions -> {out}')


if __name__ == '__main__':
    main()
