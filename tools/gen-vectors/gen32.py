#!/usr/bin/env python3
"""Differential vectors for 32-bit code (compatibility mode on this x86-64 Linux machine).

Like gen.py, but each snippet is assembled as 32-bit code and run in compatibility mode (user code
selector 23h): a 64-bit prologue loads the registers and far-jumps to the snippet, which far-jumps
back (selector 33h) to a 64-bit epilogue. Only EAX..EDI are meaningful; the stack is not usable
(the process stack lies above 4 GiB). Output: cpu/src/test/resources/vectors/integer32.txt.gz,
replayed by DifferentialTest in 32-bit protected mode.

Usage: tools/gen-vectors/gen32.py [cases-per-template]
"""
import gzip
import os
import random
import subprocess
import sys
import tempfile

import gen

BASE = 0x10000000
OUT = os.path.join(gen.ROOT, 'cpu/src/test/resources/vectors/integer32.txt.gz')
CF, PF, AF, ZF, SF, OF, ALL = gen.CF, gen.PF, gen.AF, gen.ZF, gen.SF, gen.OF, gen.ALL

PROGRAM = '''
bits 64
org 0x10000000
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    push rsi
    mov [abs save], rsp
    mov r15, rdi
    push qword [r15 + 16*8]
    popfq
    mov rax, [r15 + 0*8]
    mov rcx, [r15 + 1*8]
    mov rdx, [r15 + 2*8]
    mov rbx, [r15 + 3*8]
    mov rbp, [r15 + 5*8]
    mov rsi, [r15 + 6*8]
    mov rdi, [r15 + 7*8]
    push rax
    mov eax, 0x2b                       ; Linux USER_DS: data accesses in compatibility mode need it
    mov ds, eax
    mov es, eax
    pop rax
    jmp far dword [abs to32]
bits 32
code32:
%s
    jmp far dword [to64]
bits 64
back64:
    mov rsp, [abs save]
    push r15
    mov r15, [rsp + 8]
    mov [r15 + 0*8], rax
    mov [r15 + 1*8], rcx
    mov [r15 + 2*8], rdx
    mov [r15 + 3*8], rbx
    mov [r15 + 5*8], rbp
    mov [r15 + 6*8], rsi
    mov [r15 + 7*8], rdi
    pushfq
    pop qword [r15 + 16*8]
    pop r15
    pop rsi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
align 8
to32: dd code32
      dw 0x23
to64: dd back64
      dw 0x33
save: dq 0
'''

T = []


def t(name, asm, mask=ALL, setup=None, mem=False):
    T.append((name, asm, mask, setup, mem))


for op in ['add', 'adc', 'sub', 'sbb', 'and', 'or', 'xor', 'cmp']:
    m = ALL & ~AF if op in ('and', 'or', 'xor') else ALL
    t(op + ' r8', f'{op} cl, dh', m)
    t(op + ' r16', f'{op} ax, bx', m)
    t(op + ' r32', f'{op} eax, ebx', m)
    t(op + ' i16', f'{op} si, -5', m)
    t(op + ' m32', f'{op} dword [ebx+4], ecx', m, gen.base_rbx(), True)
for op in ['inc', 'dec']:
    t(op + ' r32 short', f'{op} esi', ALL)
    t(op + ' r16 short', f'{op} di', ALL)
for op in ['daa', 'das', 'aaa', 'aas']:
    t(op, op, CF | AF if op in ('aaa', 'aas') else ALL & ~OF)
t('aam', 'aam', SF | ZF | PF, lambda r, g: None)
t('aam 16', 'aam 16', SF | ZF | PF)
t('aad', 'aad', SF | ZF | PF)
t('aad 7', 'aad 7', SF | ZF | PF)
for form in ['[bx+si]', '[bx+di+5]', '[bp+si-3]', '[bp+di+0x1234]', '[si]', '[di-1]', '[bp+2]', '[bx]', '[0x4567]']:
    t('lea a16 ' + form, f'lea ax, {form}', 0)
    t('lea32 a16 ' + form, f'lea eax, {form}', 0)
t('lea a32', 'lea ecx, [esi+edi*2+0x100]', 0)
t('lea o16 a32', 'lea cx, [esi+edi*8-7]', 0)
for op in ['shl', 'shr', 'sar', 'rol', 'rcr']:
    t(f'{op} r16,cl', f'{op} dx, cl', CF if op in ('rol', 'rcr') else ALL & ~AF & ~OF, None if op in ('rol', 'rcr') else gen.small_cl(16))
    t(f'{op} r32,1', f'{op} esi, 1', (CF | OF) if op in ('rol', 'rcr') else ALL & ~AF)
t('mul r16', 'mul bx', CF | OF)
t('imul r32', 'imul ecx, ebx, 1000', CF | OF)
t('cwde', 'cwde', 0)
t('cdq', 'cdq', 0)
t('cbw', 'cbw', 0)
t('cwd', 'cwd', 0)
t('xchg r16', 'xchg ax, si', 0)
t('bswap', 'bswap edx', 0)
t('movzx', 'movzx ecx, dh', 0)
t('movsx', 'movsx edx, bx', 0)
for cc in ['b', 'e', 'be', 'l', 'le', 'o', 's', 'p']:
    t(f'set{cc}', f'set{cc} ah', ALL)
    t(f'cmovn{cc}', f'cmovn{cc} si, bx', ALL)
t('xlat', 'xlatb', ALL, gen.base_rbx(), True)
t('rep movsb', 'rep movsb', ALL, gen.str_setup, True)
t('repne scasw', 'repne scasw', ALL, gen.str_setup, True)
t('lodsw', 'lodsw', ALL, gen.str_setup, True)
t('loop', 'loop .t\n mov eax, 1\n .t:', ALL, lambda r, g: g.__setitem__(1, r.randrange(0, 3)))
t('jecxz', 'jecxz .t\n mov eax, 1\n .t:', ALL, lambda r, g: g.__setitem__(1, r.randrange(0, 2)))

# ---- BMI1, BMI2, ADX in 32-bit code (appended last; masks as in gen.py) ----
SZC = ZF | SF | CF | OF
t('andn', 'andn eax, ebx, ecx', ALL & ~AF & ~PF)
t('andn m32', 'andn esi, edi, [ebx+4]', ALL & ~AF & ~PF, gen.base_rbx(), True)
t('bextr', 'bextr eax, ebx, ecx', ZF | CF | OF, gen.bextr_ctl(1))
for op in ['blsi', 'blsmsk', 'blsr']:
    t(op, f'{op} eax, ebx', SZC)
    t(op + ' m32', f'{op} ecx, [ebx+8]', SZC, gen.base_rbx(), True)
t('bzhi', 'bzhi eax, ebx, ecx', SZC, gen.bzhi_idx(1))
t('mulx', 'mulx eax, esi, ecx', ALL)
t('mulx same dest', 'mulx esi, esi, [ebx+4]', ALL, gen.base_rbx(), True)
t('pdep', 'pdep eax, ebx, ecx', ALL)
t('pext m32', 'pext eax, ecx, [ebx+4]', ALL, gen.base_rbx(), True)
t('rorx', 'rorx eax, ebx, 35', ALL)
for op in ['shlx', 'sarx', 'shrx']:
    t(op, f'{op} eax, ebx, ecx', ALL)
t('adcx', 'adcx eax, ebx', ALL)
t('adox m32', 'adox ecx, [ebx+8]', ALL, gen.base_rbx(), True)
# VEX.W1 and the top bit of VEX.vvvv are ignored outside 64-bit mode (SDM Vol. 2 2.3.5, 2.3.6):
# andn eax, ebx, ecx with W1 (C4 E2 E0 F2 C1) and with vvvv naming register 11 (C4 E2 20 F2 C1)
t('andn vex.w1', 'db 0xc4, 0xe2, 0xe0, 0xf2, 0xc1', ALL & ~AF & ~PF)
t('andn vvvv top bit', 'db 0xc4, 0xe2, 0x20, 0xf2, 0xc1', ALL & ~AF & ~PF)


def assemble(src):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, 'a.asm')
        with open(p, 'w') as f:
            f.write(src)
        subprocess.run(['nasm', '-o', os.path.join(d, 'a.bin'), p], check=True)
        return open(os.path.join(d, 'a.bin'), 'rb').read().hex()


def main():
    per = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    r = random.Random(20250132)
    cases = []
    for name, asm, mask, setup, mem in T:
        body = 'start:\n' + asm
        code = assemble('bits 32\n' + body + '\n')
        program = assemble(PROGRAM % body)
        for _ in range(per):
            regs = [gen.rnd64(r) & 0xFFFFFFFF if k < 8 and k != 4 else 0 for k in range(16)]
            flags = 0x202 | (r.getrandbits(12) & ALL)
            if setup:
                setup(r, regs)
            memin = bytes(r.getrandbits(8) for _ in range(64)).hex() if mem else '00' * 64
            cases.append((name, code, program, regs + [flags], memin, mask, mem))
    with tempfile.TemporaryDirectory() as d:
        harness = os.path.join(d, 'harness')
        subprocess.run(['gcc', '-O1', '-o', harness, os.path.join(gen.HERE, 'harness.c')], check=True)
        feed = ''.join(f"{c[2]} {' '.join('%x' % v for v in c[3])} {c[4]}\n" for c in cases)
        res = subprocess.run([harness, '--full'], input=feed, capture_output=True, text=True, check=True)
    outs = res.stdout.splitlines()
    assert len(outs) == len(cases)
    with gzip.open(OUT, 'wt') as f:
        f.write('# generated by tools/gen-vectors/gen32.py in compatibility mode on x86-64 silicon\n')
        for c, o in zip(cases, outs):
            w = o.split()
            words = [int(x, 16) & 0xFFFFFFFF if k < 8 else 0 for k, x in enumerate(w[:16])] + [int(w[16], 16)]
            memin, memout = (c[4], w[17]) if c[6] else ('-', '-')
            f.write(';'.join([c[0], c[1], ' '.join('%x' % v for v in c[3]), memin,
                              ' '.join('%x' % v for v in words), memout, '%x' % c[5]]) + '\n')
    print(f'{len(cases)} vectors from {len(T)} templates -> {OUT}')


if __name__ == '__main__':
    main()
