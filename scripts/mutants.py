#!/usr/bin/env python
"""Mutation testing of the integrity code (issue 8): do the tests notice when a check is broken?

Each mutation below is one exact source replacement (old text -> new text) in one of the
integrity modules. They are applied one at a time to a COPY of the repository (the working tree's
tracked and untracked-but-not-ignored files, or HEAD with --head; the working tree itself is never
written), and the tests that guard the module run there with their own database. A mutation the
tests do not notice SURVIVES. The mutations marked named=True are the ones issue 8 says must not
survive: the run exits 1 if any of them survives, and always if a mutation is "stale" (its old
text is no longer in the module, or is there more than once: update the list with the code).

Usage:
    .venv/bin/python scripts/mutants.py                 # every mutation, 2 at a time; exit 1 on a named survivor
    .venv/bin/python scripts/mutants.py --list          # the mutations and whether each still applies
    .venv/bin/python scripts/mutants.py --only audit-intact --only 'binding-*'
    .venv/bin/python scripts/mutants.py --report-only   # exit 0 even when a named mutation survives
    .venv/bin/python scripts/mutants.py --database 'mysql+pymysql://root@127.0.0.1:3306/mutants_{n}?charset=utf8mb4'
    .venv/bin/python scripts/mutants.py --head          # mutate HEAD instead of the working tree

The database defaults to a fresh SQLite file per worker, /tmp/mutants-<pid>-<n>.db. A --database
URL may hold "{n}" (the worker's number, 0 or 1) so parallel workers get a database each; without
it the run is sequential (--jobs 1). Each database must exist and is emptied by the tests.

Before the mutations, each test subset runs once unmutated (the baseline): a subset that fails
there (someone's edit in progress) makes every result meaningless, so the run stops (exit 2).

Last full run (2 cores, SQLite, -j 2, 147 s with the baseline): all 43 mutations killed, none
survived. Equivalent mutants (the tests cannot tell them apart, nor could an attacker) are not
in the list; each is named in a comment where it would be.
"""
import argparse
import fnmatch
import os
import queue
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = os.path.join(REPO, ".venv", "bin", "python")
TIMEOUT = 300  # seconds per pytest run; a mutation that hangs the tests counts as killed

AUDIT = "app/services/audit.py"
VERIFICATION = "app/services/verification.py"
BINDINGS = "app/services/bindings.py"
BALLOTS = "app/services/ballots.py"
TALLY = "app/services/tally.py"
CONSULTATIONS = "app/services/consultations.py"
EVIDENCE = "app/services/evidence.py"
QRCODES = "app/services/qrcodes.py"
PROXIES = "app/services/proxies.py"

# The tests that guard each module: the files that exercise it directly, small enough that one
# run takes seconds (pytest -x stops at the first failure).
MUTANT_TESTS = "tests/services/test_integrity_mutants.py"
GUARDS = {
    AUDIT: ["tests/services/test_audit_tamper.py", "tests/api/test_consultations.py", MUTANT_TESTS],
    VERIFICATION: ["tests/services/test_audit_tamper.py", "tests/api/test_consultations.py", MUTANT_TESTS],
    CONSULTATIONS: ["tests/services/test_audit_tamper.py", "tests/api/test_consultations.py"],
    BINDINGS: ["tests/api/test_binding_attacks.py", "tests/api/test_bindings.py", MUTANT_TESTS],
    BALLOTS: ["tests/api/test_ballot_attacks.py", "tests/api/test_consultations.py", "tests/api/test_levels.py"],
    TALLY: ["tests/services/test_tally_law.py"],
    EVIDENCE: ["tests/api/test_evidence.py", MUTANT_TESTS],
    QRCODES: ["tests/test_cli.py"],
    PROXIES: ["tests/api/test_proxies.py", "tests/console/test_proxies_console.py"],
}


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    what: str
    named: bool = False  # issue 8: must not survive

    @property
    def tests(self):
        return GUARDS[self.path]


MUTANTS = [
    # ---- app/services/audit.py
    Mutant("audit-intact", AUDIT, "if entry.chain != name or not intact(entry):", "if entry.chain != name:",
           "check_links no longer checks an entry's keyed hash (intact)", named=True),
    Mutant("audit-prev-hash", AUDIT, "if entry.prev_hash != prev:", "if False:",
           "check_links no longer checks that an entry follows its predecessor"),
    Mutant("audit-missing-entry", AUDIT, "if entry.seq != expected_seq:", "if False:",
           "check_links no longer names a deleted entry"),
    Mutant("audit-chain-head", AUDIT, "if expected_seq - 1 != seq or prev != head:", "if expected_seq - 1 != seq:",
           "check_links no longer compares the chain's head with its last entry"),
    # ---- app/services/verification.py
    Mutant("verify-result-tally-hash", VERIFICATION,
           'if audit.sha256(audit.canonical(result.tally)) != payload["content_hash"] or result.content_hash',
           "if result.content_hash",
           "verify no longer recomputes a stored result's content hash against its entry", named=True),
    Mutant("verify-result-hash-column", VERIFICATION, ' or result.content_hash != payload["content_hash"] \\', " \\",
           "verify no longer compares a stored result's content_hash column with its entry", named=True),
    # Not listed, equivalent: dropping either `result.passed != payload["passed"]` or
    # `result.tally.get("passed") != result.passed`. The tally must hash to the entry's content_hash
    # (checked above), and the entry's "passed" is the hashed tally's, so each of the two passed checks
    # catches every edit the other would: removing one is invisible to any test.
    Mutant("verify-ballot-content", VERIFICATION,
           'if content_hash(ballot) != payload["content_hash"] or ballot.content_hash', "if ballot.content_hash",
           "verify no longer recomputes a ballot's content hash"),
    # Not listed, equivalent: dropping `or ballot.person_key != person` (the person key is part of the
    # hashed content, so an edit of it already fails the recomputed content hash).
    Mutant("verify-ballot-status", VERIFICATION, "if ballot.status != statuses[ballot.id]:", "if False:",
           "verify no longer compares a ballot's status with its chain"),
    Mutant("verify-counted-ballot", VERIFICATION, "if slot.ballot_id != counted.get(slot.person_key):", "if False:",
           "verify no longer checks which ballot a vote slot counts"),
    Mutant("verify-roll-digest", VERIFICATION, "if roll_digest(roll) != frozen:", "if False:",
           "verify no longer compares the frozen roll with its digest"),
    Mutant("verify-binding-approved", VERIFICATION, "if entry is None:", "if False:",
           "verify no longer names an approved binding that no entry approved"),
    Mutant("verify-binding-owner", VERIFICATION, "binding.user_id, binding.flat_id, binding.relation, binding.owner_id):",
           "binding.user_id, binding.flat_id, binding.relation, entry[\"owner\"]):",
           "verify no longer compares an approved binding's owner with its entry"),
    Mutant("verify-terms-rule", VERIFICATION, 'if consultation.rule != frozen["rule"]:', "if False:",
           "verify no longer compares the live rule with the frozen one"),
    Mutant("verify-seal-head", VERIFICATION,
           "if seq > slot.seq or seq not in entries or entries[seq].hash != head:",
           "if seq > slot.seq or seq not in entries:",
           "_check_seals no longer compares the sealed head with the chain's entry"),
    # Not listed, equivalent: dropping `seq > slot.seq` in _check_seals (check_links has just checked
    # that the chain's entries are exactly 1..slot.seq, so `seq not in entries` covers it).
    # ---- app/services/consultations.py
    Mutant("terms-intact", CONSULTATIONS, "or entry.seq != 1 or not audit.intact(entry):", "or entry.seq != 1:",
           "terms_from takes frozen terms from an entry that does not hash under AUDIT_KEY"),
    # ---- app/services/bindings.py
    Mutant("binding-user-limit", BINDINGS,
           "if _failures(BindingAttempt.user_id, user.id, now - timedelta(hours=1)) >= USER_FAILURES_PER_HOUR:",
           "if False:", "no per-user limit on failed binding attempts", named=True),
    Mutant("binding-user-window", BINDINGS,
           "_failures(BindingAttempt.user_id, user.id, now - timedelta(hours=1))",
           "_failures(BindingAttempt.user_id, user.id, now - timedelta(days=365))",
           "the per-user limit counts a year of failures, not an hour", named=True),
    Mutant("binding-flat-window", BINDINGS, "_since(flat, timedelta(hours=1))", "_since(flat, timedelta(days=365))",
           "the flat's hourly guard counts a year of failures, not an hour", named=True),
    Mutant("binding-flat-guard", BINDINGS, "timedelta(hours=1))) >= FLAT_FAILURES_PER_HOUR",
           "timedelta(hours=1))) > FLAT_FAILURES_PER_HOUR", "the flat's hourly guard starts a failure late (>= -> >)"),
    Mutant("binding-day-lock", BINDINGS, "FLAT_FAILURES_PER_DAY = 10", "FLAT_FAILURES_PER_DAY = 11",
           "the flat locks after 11 failures a day, not 10"),
    Mutant("binding-day-window", BINDINGS, "_since(flat, timedelta(days=1))", "_since(flat, timedelta(days=365))",
           "the flat lock counts a year of failures, not a day"),
    Mutant("binding-unlock-resets", BINDINGS,
           "return max(start, flat.binding_failures_since) if flat.binding_failures_since else start",
           "return start", "an unlock no longer restarts the flat's failure count"),
    Mutant("binding-max-pending", BINDINGS, "MAX_PENDING = 3", "MAX_PENDING = 4",
           "a user may have 4 pending bindings, not 3"),
    # ---- app/services/ballots.py
    Mutant("idempotency-owner", BALLOTS, "if replay.user_id != user_id:", "if False:",
           "an Idempotency-Key another user used returns their ballot", named=True),
    Mutant("idempotency-body", BALLOTS,
           "if (replay.flat_id, replay.choice, replay.signature_sha256) != (flat_id, choice, signature_sha256):",
           "if False:", "a reused Idempotency-Key with another body returns the old ballot"),
    Mutant("ballot-roll-person", BALLOTS, "if not speaks_for(row.owner_id, flat_id, row.person_key):", "if False:",
           "an owner binding not verified against the roll's person signs"),
    Mutant("ballot-owner-only", BALLOTS, 'if row.relation != "owner":', "if False:",
           "family members and tenants sign"),
    Mutant("ballot-paper-first", BALLOTS, 'elif current_id is not None and current_channel != "online":',
           "elif False:", "an online ballot replaces a counted paper ballot"),
    Mutant("paper-same-person", BALLOTS, "if ballot.entered_by_id == user.id:", "if False:",
           "the staff member who entered a paper ballot confirms it"),
    # ---- app/services/tally.py
    Mutant("tally-at-least", TALLY, "else value >= share * base", "else value > share * base",
           "'以上' (at least) counted as strictly more"),
    Mutant("tally-more-than", TALLY, "return value > share * base if strict", "return value >= share * base if strict",
           "'过半数' (more than half) counted as at least half"),
    Mutant("tally-no-base", TALLY, "if base == 0:", "if False:",
           "a threshold over an empty base (nobody took part) is met"),
    Mutant("tally-veto", TALLY, "objection_veto\") and objections > 0)", "objection_veto\") and objections > 1)",
           "the objection veto needs two objections"),
    Mutant("tally-required-consent", TALLY,
           'passed = participation["met"] and approval["met"] and required["met"] and veto["met"]',
           'passed = participation["met"] and approval["met"] and veto["met"]',
           "a required flat's consent is not needed to pass"),
    # ---- app/services/evidence.py
    Mutant("evidence-hash-check", EVIDENCE, "hash_ok = ballot_content_hash(ballot) == ballot.content_hash",
           "hash_ok = True", "the evidence never finds a ballot whose content no longer matches its hash",
           named=True),
    Mutant("evidence-hash-warning", EVIDENCE, "if not hash_ok:", "if False:",
           "the evidence no longer warns of a ballot whose content no longer matches its hash", named=True),
    # ---- app/services/qrcodes.py
    Mutant("qr-mode-always-url", QRCODES, 'if current_app.config["QR_MODE"] == "url":', "if True:",
           "QR_MODE=wxacode makes a plain QR", named=True),
    Mutant("qr-mode-never-url", QRCODES, 'if current_app.config["QR_MODE"] == "url":', "if False:",
           "QR_MODE=url asks WeChat for a mini-program code", named=True),
    # ---- app/services/proxies.py and the level check (issue 15)
    Mutant("proxy-limit", PROXIES, "if standing + scoped >= limit:", "if standing + scoped > limit:",
           "a holder may take a fourth proxy for one consultation (>= -> >)", named=True),
    Mutant("proxy-same-person", PROXIES, "if proxy.entered_by_id == user.id:", "if False:",
           "the staff member who entered a paper proxy may confirm it", named=True),
    Mutant("proxy-grantor-speaks", PROXIES, "if not speaks_for(binding.owner_id, flat.id, person):", "if False:",
           "an owner binding that does not speak for the roll's person may grant a proxy", named=True),
    Mutant("proxy-revoked-signs", PROXIES, 'Proxy.status == "active", db.or_(Proxy.scope == "standing", scoped)',
           'Proxy.status != "unconfirmed", db.or_(Proxy.scope == "standing", scoped)',
           "a revoked proxy still lets its holder sign", named=True),
    Mutant("ballot-level", BALLOTS, "ensure_level(frozen, row.level, flat_id)", "pass",
           "a level-1 owner signs where the consultation requires an in-person check", named=True),
]


# ---------------------------------------------------------------- the copy


def copy_repository(dest, head=False):
    """The repository's files into dest: HEAD's tree, or the working tree's tracked and untracked
    (not ignored) files as they are now. Nothing is written in REPO."""
    if head:
        archive = subprocess.run(["git", "-C", REPO, "archive", "--format=tar", "HEAD"], check=True,
                                 capture_output=True).stdout
        with tempfile.TemporaryFile() as f:
            f.write(archive)
            f.seek(0)
            with tarfile.open(fileobj=f) as tar:
                tar.extractall(dest, filter="data")
        return
    listed = subprocess.run(["git", "-C", REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src, dst = os.path.join(REPO, rel), os.path.join(dest, rel)
        if not os.path.lexists(src):
            continue  # deleted in the working tree
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        elif os.path.isfile(src):
            shutil.copyfile(src, dst)


def locate(text, old):
    """(line number, problem): where old occurs in text, or why it cannot be applied."""
    count = text.count(old)
    if count == 0:
        return None, "stale: the old text is not in the module"
    if count > 1:
        return None, f"stale: the old text occurs {count} times"
    return text[:text.index(old)].count("\n") + 1, None


# ---------------------------------------------------------------- running


@dataclass
class Worker:
    n: int
    root: str
    database: str


def pytest(worker, tests):
    """(status, seconds, output tail) of the tests in the worker's copy."""
    env = dict(os.environ, TEST_DATABASE_URL=worker.database, PYTHONDONTWRITEBYTECODE="1")
    command = [PYTHON, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=worker.root, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "killed", time.monotonic() - start, f"timed out after {TIMEOUT} s"
    seconds = time.monotonic() - start
    lines = (done.stdout + done.stderr).strip().splitlines()
    picked = [line for line in lines if line.startswith(("E ", "FAILED", "ERROR"))][:12]
    tail = "\n".join(picked + lines[-1:] if picked else lines[-15:])
    status = {0: "SURVIVED", 1: "killed"}.get(done.returncode, f"error (pytest exit {done.returncode})")
    return status, seconds, tail


def run_mutant(workers, mutant):
    worker = workers.get()
    path = os.path.join(worker.root, mutant.path)
    try:
        with open(path, encoding="utf-8") as f:
            original = f.read()
        line, problem = locate(original, mutant.old)
        if problem:
            return mutant, None, problem, 0.0, ""
        with open(path, "w", encoding="utf-8") as f:
            f.write(original.replace(mutant.old, mutant.new, 1))
        try:
            status, seconds, tail = pytest(worker, mutant.tests)
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
        return mutant, line, status, seconds, tail
    finally:
        workers.put(worker)


def run_baseline(workers, tests):
    worker = workers.get()
    try:
        return tests, pytest(worker, tests)
    finally:
        workers.put(worker)


def row(mutant, line, status, seconds):
    where = f"{mutant.path.removeprefix('app/services/')}:{line if line else '?'}"
    mark = "named" if mutant.named else ""
    label, _, problem = status.partition(": ")
    what = f"{problem.upper()}: {mutant.what}" if problem else mutant.what
    return f"{label:9} {seconds:6.1f}s  {where:19} {mark:5}  {mutant.name:26} {what}"


def select(patterns):
    if not patterns:
        return list(MUTANTS)
    names = [p for arg in patterns for p in arg.split(",") if p]
    chosen = [m for m in MUTANTS if any(fnmatch.fnmatchcase(m.name, p) for p in names)]
    unknown = [p for p in names if not any(fnmatch.fnmatchcase(m.name, p) for m in MUTANTS)]
    if unknown:
        sys.exit(f"no mutation named {', '.join(unknown)} (see --list)")
    return chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutations and whether each still applies")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="only this mutation (a name or a glob such as 'binding-*'; repeatable, or comma-separated)")
    parser.add_argument("--database", metavar="URL",
                        help="the tests' database; '{n}' in it is the worker's number (default: SQLite in /tmp)")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="mutations run at once (default 2)")
    parser.add_argument("--head", action="store_true", help="mutate HEAD, not the working tree as it is now")
    parser.add_argument("--report-only", action="store_true", help="exit 0 even when a named mutation survives")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run of each test subset")
    parser.add_argument("--verbose", "-v", action="store_true", help="show pytest's last lines for every mutation")
    args = parser.parse_args()
    mutants = select(args.only)

    with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
        source = os.path.join(tmp, "source")
        copy_repository(source, head=args.head)
        if args.list:
            stale = 0
            for m in mutants:
                with open(os.path.join(source, m.path), encoding="utf-8") as f:
                    line, problem = locate(f.read(), m.old)
                stale += bool(problem)
                print(f"{m.name:26} {'named' if m.named else '     '}  {m.path}:{line or '?'}  {problem or m.what}")
                print(f"{'':34}- {m.old.strip()}\n{'':34}+ {m.new.strip()}")
            print(f"{len(mutants)} mutations, {sum(m.named for m in mutants)} named, {stale} stale")
            return 1 if stale else 0

        jobs = max(1, args.jobs)
        if args.database and "{n}" not in args.database and jobs > 1:
            print("--database without {n}: one database, so one mutation at a time", file=sys.stderr)
            jobs = 1
        workers, created = queue.Queue(), []
        for n in range(jobs):
            root = os.path.join(tmp, f"w{n}")
            shutil.copytree(source, root, symlinks=True)
            if args.database:
                url = args.database.replace("{n}", str(n))
            else:
                db_file = f"/tmp/mutants-{os.getpid()}-{n}.db"
                created.append(db_file)
                url = "sqlite:///" + db_file
            workers.put(Worker(n, root, url))
        lock = threading.Lock()
        started = time.monotonic()
        try:
            with ThreadPoolExecutor(jobs) as pool:
                if not args.no_baseline:
                    subsets = sorted({tuple(m.tests) for m in mutants})
                    failed = False
                    for future in as_completed([pool.submit(run_baseline, workers, list(t)) for t in subsets]):
                        tests, (status, seconds, tail) = future.result()
                        ok = status == "SURVIVED"  # exit 0: every test passed unmutated
                        print(f"{'baseline' if ok else 'BASELINE FAILED':9} {seconds:6.1f}s  {' '.join(tests)}")
                        if not ok:
                            failed = True
                            print("    " + tail.replace("\n", "\n    "))
                    if failed:
                        print("the unmutated tests fail: no mutation can be judged (someone's edit in progress?)")
                        return 2
                results = []
                for future in as_completed([pool.submit(run_mutant, workers, m) for m in mutants]):
                    mutant, line, status, seconds, tail = future.result()
                    results.append((mutant, line, status, seconds))
                    with lock:
                        print(row(mutant, line, status, seconds), flush=True)
                        if args.verbose or status.startswith("error"):
                            print("    " + tail.replace("\n", "\n    "))
        finally:
            for db_file in created:
                if os.path.exists(db_file):
                    os.remove(db_file)

    killed = [r for r in results if r[2] == "killed"]
    survived = [r for r in results if r[2] == "SURVIVED"]
    stale = [r for r in results if r[2].startswith("stale")]
    errors = [r for r in results if r[2].startswith("error")]
    print(f"\n{len(results)} mutations in {time.monotonic() - started:.0f} s: {len(killed)} killed, "
          f"{len(survived)} survived, {len(stale)} stale, {len(errors)} errors")
    for mutant, line, status, _ in sorted(survived + stale + errors, key=lambda r: MUTANTS.index(r[0])):
        print(f"  {status.partition(': ')[0]:9} {'named ' if mutant.named else ''}{mutant.name}: {mutant.path}:{line or '?'} "
              f"{mutant.old.strip()!r} -> {mutant.new.strip()!r}")
    named_survivors = [r for r in survived if r[0].named]
    if stale or errors:
        return 1
    if named_survivors and not args.report_only:
        print(f"{len(named_survivors)} named mutation(s) survived: issue 8 says they must be killed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
