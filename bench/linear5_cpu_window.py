#!/usr/bin/python3
# usage: bench/linear5_cpu_window.py BINARY MIGRATIONS_DIR OUT_JSON [RUNS]
# With the services of `eval "$(scripts/services.sh start)"` in the environment
# (ARTISTSAID_DATABASE_URL, ARTISTSAID_SERVICES_PG_PID, ARTISTSAID_SERVICES_REDIS_PID).
# For comparing binaries that predate the bench's own linear5_cpu_ms_per_run field.
# Runs `BINARY bench workflow --runs N --items 0 --json --starters 16` and, during its
# linear5 phase, samples every 50 ms: finished linear5 runs (one persistent psql), CPU
# (utime+stime, + reaped children for the postmaster) of the private PostgreSQL (postmaster
# and all its children), of the bench process, and of redis-server. Reports CPU ms per run
# between 10% and 90% of the runs finished.
import json, os, subprocess, sys, time
env = dict(os.environ)
binary, mig, out = sys.argv[1], sys.argv[2], sys.argv[3]
runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
env['ARTISTSAID_MIGRATIONS_DIR'] = mig
env['ARTISTSAID_LOG_LEVEL'] = 'warn'
tck = os.sysconf('SC_CLK_TCK')
pg_pid = int(env['ARTISTSAID_SERVICES_PG_PID']); redis_pid = int(env['ARTISTSAID_SERVICES_REDIS_PID'])

def stat(pid):
    try:
        s = open(f'/proc/{pid}/stat').read()
    except OSError:
        return None
    f = s[s.rindex(')') + 2:].split()
    # fields from 3: state ppid ... utime=14 stime=15 cutime=16 cstime=17
    return int(f[1]), int(f[11]) + int(f[12]), int(f[13]) + int(f[14])

def pg_cpu():
    total = 0
    ppid, own, children = stat(pg_pid)
    total += own + children
    for d in os.listdir('/proc'):
        if not d.isdigit(): continue
        st = stat(int(d))
        if st and st[0] == pg_pid: total += st[1] + st[2]
    return total / tck

def cpu(pid):
    st = stat(pid)
    return (st[1] + st[2]) / tck if st else None

bench = subprocess.Popen([binary, 'bench', 'workflow', '--runs', str(runs), '--items', '0', '--json',
                          '--starters', '16'], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
url = env['ARTISTSAID_DATABASE_URL']
db = None
deadline = time.time() + 30
while db is None and time.time() < deadline:
    r = subprocess.run(['psql', url, '-At', '-c', "SELECT datname FROM pg_database WHERE datname LIKE 'aa_bench_%' ORDER BY oid DESC LIMIT 1"], capture_output=True, text=True)
    if r.stdout.strip(): db = r.stdout.strip()
    else: time.sleep(0.05)
dburl = url.rsplit('/', 1)[0] + '/' + db
while time.time() < deadline + 30:
    r = subprocess.run(['psql', dburl, '-At', '-c', "SELECT to_regclass('workflow_runs') IS NOT NULL"], capture_output=True, text=True)
    if r.stdout.strip() == 't': break
    time.sleep(0.02)
psql = subprocess.Popen(['psql', dburl, '-At', '-q'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
def done():
    psql.stdin.write("SELECT count(*) FROM workflow_runs WHERE workflow_name = 'bench-linear5' AND status = 'succeeded';\n")
    psql.stdin.flush()
    line = psql.stdout.readline().strip()
    try: return int(line)
    except ValueError: return 0
samples = []
t_end = time.time() + 600  # bounded: at most 10 minutes
while time.time() < t_end:
    try:
        n = done()
    except Exception:
        break
    samples.append((time.time(), n, pg_cpu(), cpu(bench.pid), cpu(redis_pid)))
    if n >= runs: break
    time.sleep(0.05)
psql.stdin.close(); psql.wait()
stdout, stderr = bench.communicate()
res = json.loads(stdout) if stdout.strip() else {'error': stderr[-500:]}
lo = next(s for s in samples if s[1] >= runs * 0.1)
hi = next(s for s in samples if s[1] >= runs * 0.9)
n = hi[1] - lo[1]
res['window'] = {'runs': n, 'seconds': hi[0] - lo[0], 'runs_per_s': n / (hi[0] - lo[0]),
                 'cpu_ms_per_run': {'postgres': (hi[2] - lo[2]) * 1000 / n,
                                    'bench_process': (hi[3] - lo[3]) * 1000 / n,
                                    'redis': (hi[4] - lo[4]) * 1000 / n}}
res['window']['cpu_ms_per_run']['total'] = sum(res['window']['cpu_ms_per_run'].values())
res['load'] = open('/proc/loadavg').read().split()[:3]
json.dump(res, open(out, 'w'))
print(json.dumps({k: res.get(k) for k in ['linear5_runs_per_s', 'window', 'load', 'linear5_cpu_ms_per_run']}))
