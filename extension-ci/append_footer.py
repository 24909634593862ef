#!/usr/bin/env python3
"""Turn a shared library into a loadable .duckdb_extension by appending DuckDB's
534-byte metadata footer (see DESIGN.md, "The metadata footer").

    append_footer.py <in.so> <out.duckdb_extension> --version <ext version>
        [--abi C_STRUCT] [--min-capi v1.2.0] [--platform P | --python PY]
    append_footer.py --check <file.duckdb_extension>

Footer layout: 22-byte WebAssembly custom-section header, then 8 fields of 32 bytes
(ASCII, NUL padded) in reverse order (field 8 first, field 1 last), then a 256-byte
signature (zeros: unsigned). Fields: 1 magic "4", 2 platform, 3 minimum C API version
(C_STRUCT) or exact DuckDB version (otherwise), 4 extension version, 5 ABI type,
6-8 unused.
"""
import argparse
import os
import shutil
import subprocess
import sys

HEADER = bytes([0x00, 0x93, 0x04, 0x10]) + b"duckdb_signature" + bytes([0x80, 0x04])
FIELD = 32
NFIELDS = 8
SIGNATURE = 256
FOOTER_SIZE = len(HEADER) + NFIELDS * FIELD + SIGNATURE  # 534
NAMES = {1: "magic", 2: "platform", 3: "duckdb/capi version", 4: "extension version",
         5: "abi type", 6: "unused6", 7: "unused7", 8: "unused8"}
ABIS = ("C_STRUCT", "C_STRUCT_UNSTABLE", "CPP")


def die(msg):
    sys.exit(f"append_footer.py: error: {msg}")


def field(value):
    raw = value.encode("ascii")
    if len(raw) > FIELD:
        die(f"footer field {value!r} longer than {FIELD} bytes")
    return raw.ljust(FIELD, b"\0")


def build_footer(platform, version, abi, capi):
    fields = {1: "4", 2: platform, 3: capi, 4: version, 5: abi, 6: "", 7: "", 8: ""}
    body = b"".join(field(fields[i]) for i in range(NFIELDS, 0, -1))
    footer = HEADER + body + bytes(SIGNATURE)
    if len(footer) != FOOTER_SIZE or FOOTER_SIZE != 534:
        die(f"footer is {len(footer)} bytes, expected 534")
    return footer


def platform_from_python(python):
    code = "import duckdb; print(duckdb.connect().execute('PRAGMA platform').fetchone()[0])"
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True,
                             check=True, timeout=120).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        die(f"could not get platform from {python}: {e}")
    if not out:
        die(f"{python} printed no platform")
    return out


def parse_footer(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < FOOTER_SIZE:
        die(f"{path}: only {len(data)} bytes, too short for a footer")
    foot = data[-FOOTER_SIZE:]
    if foot[:len(HEADER)] != HEADER:
        die(f"{path}: footer header mismatch: {foot[:len(HEADER)].hex()}")
    meta = foot[len(HEADER):len(HEADER) + NFIELDS * FIELD]
    fields = {}
    for k in range(NFIELDS):  # stored: field 8 first
        raw = meta[k * FIELD:(k + 1) * FIELD]
        fields[NFIELDS - k] = raw.rstrip(b"\0").decode("ascii", "replace")
    sig = foot[-SIGNATURE:]
    return fields, sig, len(data) - FOOTER_SIZE


def check(path):
    fields, sig, libsize = parse_footer(path)
    print(f"file: {path}")
    print(f"library bytes: {libsize}")
    for i in range(1, NFIELDS + 1):
        print(f"field {i} ({NAMES[i]}): {fields[i]!r}")
    print("signature: " + ("unsigned (zeros)" if not any(sig) else "present"))
    if fields[1] != "4":
        die(f"magic is {fields[1]!r}, expected '4'")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", nargs="?")
    ap.add_argument("output", nargs="?")
    ap.add_argument("--version", help="extension version (field 4)")
    ap.add_argument("--abi", default="C_STRUCT", choices=ABIS)
    ap.add_argument("--min-capi", default="v1.2.0",
                    help="field 3: min C API version (C_STRUCT) or exact DuckDB version")
    ap.add_argument("--platform", help="field 2; default: from --python, else linux_amd64")
    ap.add_argument("--python", help="python with the duckdb module, asked for PRAGMA platform")
    ap.add_argument("--check", metavar="FILE", help="parse and print the footer of FILE")
    a = ap.parse_args()

    if a.check:
        check(a.check)
        return
    if not (a.input and a.output and a.version):
        ap.error("need <in.so> <out.duckdb_extension> --version V (or --check FILE)")
    platform = a.platform or (platform_from_python(a.python) if a.python else "linux_amd64")
    footer = build_footer(platform, a.version, a.abi, a.min_capi)

    with open(a.input, "rb") as f:
        head = f.read(4)
    if head != b"\x7fELF" and head[:2] != b"MZ" and head not in (
            b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        print(f"warning: {a.input} does not look like a shared library", file=sys.stderr)
    before = os.path.getsize(a.input)
    # Write a new file and rename it over the old one: a process that has the old library
    # mapped keeps its inode (rewriting it in place crashes such a process when it unloads).
    tmp = f"{a.output}.tmp-{os.getpid()}"
    shutil.copyfile(a.input, tmp)
    with open(tmp, "ab") as f:
        f.write(footer)
    os.replace(tmp, a.output)
    after = os.path.getsize(a.output)
    if after - before != 534:
        die(f"appended {after - before} bytes, expected 534")
    fields, _, _ = parse_footer(a.output)
    print(f"wrote {a.output}: {before} + 534 bytes; platform={fields[2]} "
          f"capi/duckdb={fields[3]} version={fields[4]} abi={fields[5]}")


if __name__ == "__main__":
    main()
