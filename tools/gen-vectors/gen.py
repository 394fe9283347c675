#!/usr/bin/env python3
"""Differential test vectors from real silicon (run on demand, never by the test suite).

For every template below: assemble the snippet with nasm, run it natively through harness.c on
random and edge-case inputs, and write one line per case:

    name;codehex;in(17 hex words);memin;out(17 hex words);memout;flagmask

into cpu/src/test/resources/vectors/integer.txt.gz. The 17 words are the 16 general registers in
SDM order (RSP ignored) and RFLAGS; the 64-byte memory window lives at physical/linear 0x200000.
flagmask keeps only the flags the SDM defines for the instruction (this machine is AMD: its values
for undefined flags are not Intel's). cpu/src/test/java/lhv/cpu/exec/DifferentialTest.java replays
the file on our processor.

Usage: tools/gen-vectors/gen.py [cases-per-template]   (needs nasm, gcc, x86-64 Linux)
"""
import gzip
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, 'cpu/src/test/resources/vectors/integer.txt.gz')

CF, PF, AF, ZF, SF, OF = 1, 4, 0x10, 0x40, 0x80, 0x800
ALL = CF | PF | AF | ZF | SF | OF
DATA = 0x200000

REGS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
        'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15']

EDGES = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000,
         0xFFFFFFFF, 0x100000000, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF,
         0xFFFFFFFFFFFFFFFE, 0x8000000000000001, 0x0F0F0F0F0F0F0F0F]


def rnd64(r):
    k = r.random()
    if k < 0.35:
        return r.choice(EDGES)
    if k < 0.5:
        return r.getrandbits(8)
    if k < 0.6:
        return r.getrandbits(16)
    if k < 0.75:
        return r.getrandbits(32)
    return r.getrandbits(64)


def sx(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


TEMPLATES = []   # (name, asm, flagmask, setup(r, regs), memcheck)


def t(name, asm, mask=ALL, setup=None, mem=False):
    TEMPLATES.append((name, asm, mask, setup, mem))


def base_rbx(off=0):
    def s(r, regs):
        regs[3] = DATA + off
    return s


def compose(*fs):
    def s(r, regs):
        for f in fs:
            f(r, regs)
    return s


# ---- ALU ----
for op in ['add', 'adc', 'sub', 'sbb', 'and', 'or', 'xor', 'cmp']:
    m = ALL & ~AF if op in ('and', 'or', 'xor') else ALL
    t(op + ' r8', f'{op} al, bl', m)
    t(op + ' r8h', f'{op} ah, ch', m)
    t(op + ' r16', f'{op} ax, bx', m)
    t(op + ' r32', f'{op} eax, ebx', m)
    t(op + ' r64', f'{op} rax, rbx', m)
    t(op + ' r64x', f'{op} r9, r10', m)
    t(op + ' sil', f'{op} sil, dil', m)
    t(op + ' i8', f'{op} al, 0x85', m)
    t(op + ' i16', f'{op} cx, 0x1234', m)
    t(op + ' i32', f'{op} edx, 0x87654321', m)
    t(op + ' i64s8', f'{op} rdx, -3', m)
    t(op + ' i64s32', f'{op} rsi, -0x12345678', m)
    t(op + ' m8', f'{op} byte [rbx+3], cl', m, base_rbx(), True)
    t(op + ' m32r', f'{op} ecx, [rbx+8]', m, base_rbx(), True)
    t(op + ' m64i', f'{op} qword [rbx+16], 0x7f', m, base_rbx(), True)
for op in ['inc', 'dec', 'neg', 'not']:
    m = ALL & ~CF if op in ('inc', 'dec') else (0 if op == 'not' else ALL)
    m = ALL if op != 'not' else 0
    t(op + ' r8', f'{op} dl', m)
    t(op + ' r16', f'{op} dx', m)
    t(op + ' r32', f'{op} edx', m)
    t(op + ' r64', f'{op} rdx', m)
    t(op + ' m16', f'{op} word [rbx+6]', m, base_rbx(), True)
t('test r32', 'test eax, ebx', ALL & ~AF)
t('test i8', 'test bl, 0x81', ALL & ~AF)
t('test m64', 'test [rbx], rcx', ALL & ~AF, base_rbx(), True)

def small_cl(limit):
    def s(r, regs):
        regs[1] = (regs[1] & ~0xFF) | r.randrange(0, limit)
    return s


# ---- shifts and rotates (OF defined for 1-bit forms only, AF never) ----
for op in ['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr']:
    rot = op in ('rol', 'ror', 'rcl', 'rcr')
    m1 = (CF | OF) if rot else (ALL & ~AF)
    mn = CF if rot else (ALL & ~AF & ~OF)
    for reg, bits in [('al', 8), ('dx', 16), ('esi', 32), ('r11', 64)]:
        t(f'{op} {reg},1', f'{op} {reg}, 1', m1)
        # SHL/SHR/SAR leave CF undefined for counts >= the operand size
        t(f'{op} {reg},cl', f'{op} {reg}, cl', mn, None if rot or bits > 16 else small_cl(bits))
        t(f'{op} {reg},imm', f'{op} {reg}, 5', mn)
    t(f'{op} m32,cl', f'{op} dword [rbx+4], cl', mn, base_rbx(), True)


for op in ['shld', 'shrd']:
    t(f'{op} r32,cl', f'{op} eax, ebx, cl', ALL & ~AF & ~OF)
    t(f'{op} r64,cl', f'{op} rax, rbx, cl', ALL & ~AF & ~OF)
    t(f'{op} r16,cl', f'{op} ax, bx, cl', ALL & ~AF & ~OF, small_cl(16))
    t(f'{op} r32,1', f'{op} edx, esi, 1', ALL & ~AF)
    t(f'{op} r64,imm', f'{op} rdx, rsi, 13', ALL & ~AF & ~OF)
    t(f'{op} m16,imm', f'{op} [rbx+2], cx, 7', ALL & ~AF & ~OF, base_rbx(), True)

# ---- multiply and divide ----
for reg, bits in [('bl', 8), ('bx', 16), ('ebx', 32), ('rbx', 64)]:
    t(f'mul {reg}', f'mul {reg}', CF | OF)
    t(f'imul {reg}', f'imul {reg}', CF | OF)
t('imul r16,rm', 'imul cx, bx', CF | OF)
t('imul r32,rm', 'imul ecx, ebx', CF | OF)
t('imul r64,rm', 'imul rcx, rbx', CF | OF)
t('imul r32,rm,i8', 'imul ecx, ebx, -7', CF | OF)
t('imul r64,rm,i32', 'imul rcx, rbx, 0x12345', CF | OF)
t('imul r16,m,i16', 'imul cx, [rbx+4], 0x1234', CF | OF, base_rbx(), True)


def div_inputs(bits, signed):
    def s(r, regs):
        m = (1 << bits) - 1
        while True:
            d = rnd64(r) & m
            if d == 0:
                continue
            if signed:
                # choose quotient and remainder so that the quotient fits (no #DE natively)
                dv = sx(d, bits)
                q = r.randrange(-(1 << (bits - 1)) + 1, 1 << (bits - 1))
                if r.random() < 0.3:
                    q = r.randrange(-5, 6)
                p = q * dv
                rem = r.randrange(0, abs(dv))
                if p < 0 or (p == 0 and r.random() < 0.5):
                    rem = -rem
                n = p + rem
                lo, hi = n & m, (n >> bits) & m
            else:
                hi = r.randrange(0, d)
                lo = rnd64(r) & m
            break
        if bits == 8:
            regs[0] = (regs[0] & ~0xFFFF) | ((hi << 8) | lo)
        else:
            regs[0] = (regs[0] & ~m) | lo
            regs[2] = (regs[2] & ~m) | hi
        regs[3] = (regs[3] & ~m) | d
    return s


for reg, bits in [('bl', 8), ('bx', 16), ('ebx', 32), ('rbx', 64)]:
    t(f'div {reg}', f'div {reg}', 0, div_inputs(bits, False))
    t(f'idiv {reg}', f'idiv {reg}', 0, div_inputs(bits, True))

# ---- bit operations ----
for op in ['bt', 'bts', 'btr', 'btc']:
    t(f'{op} r32,r', f'{op} eax, ecx', CF)
    t(f'{op} r64,r', f'{op} rax, rcx', CF)
    t(f'{op} r16,i', f'{op} ax, 13', CF)
    t(f'{op} r64,i', f'{op} rdx, 45', CF)


    def bitoff(r, regs):
        regs[3] = DATA + 32
        regs[1] = r.randrange(-256, 256) & 0xFFFFFFFFFFFFFFFF
    t(f'{op} m32,r', f'{op} dword [rbx], ecx', CF, bitoff, True)
    t(f'{op} m64,r', f'{op} qword [rbx], rcx', CF, bitoff, True)
    t(f'{op} m16,i', f'{op} word [rbx+2], 19', CF, base_rbx(), True)
for op in ['bsf', 'bsr']:
    t(f'{op} r32', f'{op} eax, ebx', ZF)
    t(f'{op} r64', f'{op} rax, rbx', ZF)
    t(f'{op} r16', f'{op} ax, bx', ZF)
for op in ['tzcnt', 'lzcnt']:
    t(f'{op} r16', f'{op} ax, bx', CF | ZF)
    t(f'{op} r32', f'{op} eax, ebx', CF | ZF)
    t(f'{op} r64', f'{op} rax, rbx', CF | ZF)
t('popcnt r16', 'popcnt ax, bx', ALL)
t('popcnt r32', 'popcnt eax, ebx', ALL)
t('popcnt r64', 'popcnt rax, rbx', ALL)

# ---- data movement ----
t('movzx r32,r8', 'movzx eax, bh', 0)
t('movzx r64,r16', 'movzx rax, bx', 0)
t('movsx r16,r8', 'movsx ax, bl', 0)
t('movsx r32,r16', 'movsx eax, bx', 0)
t('movsx r64,r8', 'movsx rax, sil', 0)
t('movsxd', 'movsxd rax, ebx', 0)
t('mov r8h', 'mov ah, bl', 0)
t('mov r16', 'mov cx, dx', 0)
t('mov r32 zero-extends', 'mov ecx, edx', 0)
t('mov m8', 'mov [rbx+5], dh', 0, base_rbx(), True)
t('mov r64,m', 'mov rdx, [rbx+9]', 0, base_rbx(), True)
t('mov imm64', 'mov r12, 0x123456789abcdef0', 0)
t('xchg r32', 'xchg eax, ebx', 0)
t('xchg r8', 'xchg ah, bl', 0)
t('xchg m64', 'xchg [rbx+8], rcx', 0, base_rbx(), True)
t('bswap r32', 'bswap esi', 0)
t('bswap r64', 'bswap r13', 0)
t('xadd r32', 'xadd eax, ebx', ALL)
t('xadd m16', 'xadd [rbx+4], cx', ALL, base_rbx(), True)
t('cmpxchg r32', 'cmpxchg ecx, ebx', ALL)
t('cmpxchg r8', 'cmpxchg cl, bl', ALL)
t('cmpxchg r64', 'cmpxchg rcx, rbx', ALL)


def cx_eq(r, regs):
    regs[3] = DATA
    if r.random() < 0.5:
        regs[0] = 0x0706050403020100   # matches the memory set below half the time
        regs[2] = 0x0f0e0d0c0b0a0908
t('cmpxchg m64', 'cmpxchg [rbx+8], rcx', ALL, base_rbx(), True)
t('cmpxchg8b', 'cmpxchg8b [rbx]', ZF, cx_eq, True)
t('cmpxchg16b', 'cmpxchg16b [rbx]', ZF, cx_eq, True)
for cc in ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g']:
    t(f'cmov{cc} r32', f'cmov{cc} eax, ebx', ALL)
    t(f'cmov{cc} r16', f'cmov{cc} ax, bx', ALL)
    t(f'set{cc}', f'set{cc} cl', ALL)
    t(f'j{cc}', f'j{cc} .t\n mov eax, 1\n jmp .e\n .t: mov eax, 2\n .e:', ALL)
for ins in ['cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo', 'clc', 'stc', 'cmc', 'lahf', 'sahf']:
    t(ins, ins, ALL)
t('lea sib', 'lea rax, [rbx+rcx*4+0x12]', 0)
t('lea 32', 'lea eax, [ebx+ecx*8-0x7]', 0)
t('lea 16', 'lea ax, [rbx+rsi]', 0)


def str_setup(r, regs):
    regs[6] = DATA + r.randrange(0, 16)
    regs[7] = DATA + 32 + r.randrange(0, 16)
    regs[1] = r.randrange(0, 12)
t('rep movsb', 'rep movsb', ALL, str_setup, True)
t('rep movsd', 'rep movsd', ALL, lambda r, g: (str_setup(r, g), g.__setitem__(1, r.randrange(0, 4))), True)
t('rep stosw', 'rep stosw', ALL, str_setup, True)
t('lodsq', 'lodsq', ALL, str_setup, True)
t('repe cmpsb', 'repe cmpsb', ALL, str_setup, True)
t('repne scasb', 'repne scasb', ALL, str_setup, True)
t('loop', 'loop .t\n mov eax, 1\n .t:', ALL, lambda r, g: g.__setitem__(1, r.randrange(0, 3)))
t('jrcxz', 'jrcxz .t\n mov eax, 1\n .t:', ALL, lambda r, g: g.__setitem__(1, r.randrange(0, 2)))


# ---- BMI1, BMI2, ADX (appended last so that the vectors above keep their random inputs) ----
# Masks: AF and PF are undefined for the flag-writing BMI instructions, SF too for BEXTR; MULX, PDEP,
# PEXT, RORX and the X shifts write no flags (all compared); ADCX/ADOX write only CF/OF (all compared).
BMI_EDGE = [0, 1, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 127, 128, 200, 255]


def bmi_byte(r):
    return r.choice(BMI_EDGE) if r.random() < 0.7 else r.randrange(0, 256)


def bextr_ctl(k):
    """BEXTR control in register k: START in bits 7:0, LEN in 15:8, junk above (ignored)."""
    def s(r, regs):
        regs[k] = (r.getrandbits(48) << 16) | (bmi_byte(r) << 8) | bmi_byte(r)
    return s


def bzhi_idx(k):
    """BZHI index in bits 7:0 of register k, junk above (ignored)."""
    def s(r, regs):
        regs[k] = (r.getrandbits(56) << 8) | bmi_byte(r)
    return s


SZC = ZF | SF | CF | OF
t('andn r64', 'andn rax, rbx, rcx', ALL & ~AF & ~PF)
t('andn r32', 'andn eax, ebx, ecx', ALL & ~AF & ~PF)
t('andn m64 r8', 'andn r8, r9, [rbx+8]', ALL & ~AF & ~PF, base_rbx(), True)
t('bextr r64', 'bextr rax, rbx, rcx', ZF | CF | OF, bextr_ctl(1))
t('bextr r32', 'bextr eax, ebx, ecx', ZF | CF | OF, bextr_ctl(1))
t('bextr m32', 'bextr eax, [rbx+4], ecx', ZF | CF | OF, compose(base_rbx(), bextr_ctl(1)), True)
for op in ['blsi', 'blsmsk', 'blsr']:
    t(f'{op} r64', f'{op} rax, rbx', SZC)
    t(f'{op} r32', f'{op} eax, ebx', SZC)
    t(f'{op} m64', f'{op} rcx, [rbx+16]', SZC, base_rbx(), True)
    t(f'{op} zero', f'{op} rdx, rsi', SZC, lambda r, g: g.__setitem__(6, r.choice([0, 0, 1, 1 << 63])))
t('bzhi r64', 'bzhi rax, rbx, rcx', SZC, bzhi_idx(1))
t('bzhi r32', 'bzhi eax, ebx, ecx', SZC, bzhi_idx(1))
t('bzhi m64', 'bzhi rax, [rbx+8], rcx', SZC, compose(base_rbx(), bzhi_idx(1)), True)
t('mulx r64', 'mulx rax, rbx, rcx', ALL)
t('mulx r32', 'mulx eax, ebx, ecx', ALL)
t('mulx same dest', 'mulx rax, rax, rcx', ALL)
t('mulx m64 r14', 'mulx r14, rdi, [rbx+8]', ALL, base_rbx(), True)
for op in ['pdep', 'pext']:
    t(f'{op} r64', f'{op} rax, rbx, rcx', ALL)
    t(f'{op} r32', f'{op} eax, ebx, ecx', ALL)
    t(f'{op} m64', f'{op} rax, rcx, [rbx+8]', ALL, base_rbx(), True)
t('rorx r64', 'rorx rax, rbx, 13', ALL)
t('rorx r64 masked', 'rorx rax, rbx, 65', ALL)
t('rorx r32 masked', 'rorx eax, ebx, 33', ALL)
t('rorx m32', 'rorx ecx, [rbx+4], 7', ALL, base_rbx(), True)
for op in ['shlx', 'sarx', 'shrx']:
    t(f'{op} r64', f'{op} rax, rbx, rcx', ALL)
    t(f'{op} r32', f'{op} eax, ebx, ecx', ALL)
    t(f'{op} r64 small', f'{op} rax, rbx, rcx', ALL, small_cl(70))
    t(f'{op} m32', f'{op} eax, [rbx+4], ecx', ALL, base_rbx(), True)
for op in ['adcx', 'adox']:
    t(f'{op} r64', f'{op} rax, rbx', ALL)
    t(f'{op} r32', f'{op} eax, ebx', ALL)
    t(f'{op} m64', f'{op} rcx, [rbx+8]', ALL, base_rbx(), True)
t('adcx adox chain', 'adcx rax, rcx\n adox rdx, rsi\n adcx rax, rdi\n adox rdx, rdi', ALL)
t('movnti m32', 'movnti [rbx+4], ecx', ALL, base_rbx(), True)
t('movnti m64', 'movnti [rbx+8], rcx', ALL, base_rbx(), True)


def named(asm, k):
    """True when the snippet names register k (any of its sizes)."""
    low = asm.lower()
    if k == 5:
        return any(n in low for n in ('rbp', 'ebp', ' bp', 'bpl'))
    if k >= 8:
        return f'r{k}' in low
    return False


def assemble(asm):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, 'a.asm')
        with open(src, 'w') as f:
            f.write('bits 64\nstart:\n' + asm + '\n')
        subprocess.run(['nasm', '-o', os.path.join(d, 'a.bin'), src], check=True)
        return open(os.path.join(d, 'a.bin'), 'rb').read().hex()


def main():
    per = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    r = random.Random(20250101)
    with tempfile.TemporaryDirectory() as d:
        pro, epi, harness = (os.path.join(d, n) for n in ('pro.bin', 'epi.bin', 'harness'))
        subprocess.run(['nasm', '-DPROLOGUE', '-o', pro, os.path.join(HERE, 'stub.asm')], check=True)
        subprocess.run(['nasm', '-o', epi, os.path.join(HERE, 'stub.asm')], check=True)
        subprocess.run(['gcc', '-O1', '-o', harness, os.path.join(HERE, 'harness.c')], check=True)
        cases = []
        for name, asm, mask, setup, mem in TEMPLATES:
            code = assemble(asm)
            for _ in range(per):
                # RAX..RDI (not RSP/RBP) always vary; RBP and R8..R15 only when the snippet names them
                regs = [rnd64(r) if k < 8 and k not in (4, 5) or named(asm, k) else 0 for k in range(16)]
                flags = 0x202 | (r.getrandbits(12) & ALL)
                if setup:
                    setup(r, regs)
                memin = bytes(r.getrandbits(8) for _ in range(64)).hex() if mem else '00' * 64
                if name in ('cmpxchg8b', 'cmpxchg16b'):
                    memin = bytes(range(16)).hex() + memin[32:]
                cases.append((name, code, regs + [flags], memin, mask, mem))
        feed = ''.join(f"{c[1]} {' '.join('%x' % v for v in c[2])} {c[3]}\n" for c in cases)
        res = subprocess.run([harness, pro, epi], input=feed, capture_output=True, text=True, check=True)
        outs = res.stdout.splitlines()
        assert len(outs) == len(cases), (len(outs), len(cases))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with gzip.open(OUT, 'wt') as f:
        f.write('# generated by tools/gen-vectors/gen.py on real x86-64 silicon; see that file\n')
        for c, o in zip(cases, outs):
            words = o.split()
            memin, memout = (c[3], words[17]) if c[5] else ('-', '-')
            f.write(';'.join([c[0], c[1], ' '.join('%x' % v for v in c[2]), memin,
                              ' '.join(words[:17]), memout, '%x' % c[4]]) + '\n')
    print(f'{len(cases)} vectors from {len(TEMPLATES)} templates -> {OUT}')


if __name__ == '__main__':
    main()
