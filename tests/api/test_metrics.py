"""GET /metrics: Prometheus text that promtool accepts, with per-route requests and latency
histograms, database and thread figures; and the access log."""
import subprocess
import time


def test_metrics_are_valid_prometheus_text(node):
    c = node.login("parent")
    for _ in range(3):
        assert c.get("/api/v1/me").status == 200
    node.client().get("/api/v1/nowhere")
    r = node.client().get("/metrics")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = r.body.decode()
    check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    lines = dict(l.rsplit(" ", 1) for l in text.splitlines() if l and not l.startswith("#"))
    assert int(lines['mes_http_requests_total{route="me",method="GET",status="2xx"}']) >= 3
    assert int(lines['mes_http_requests_total{route="unmatched",method="any",status="4xx"}']) >= 1
    assert int(lines['mes_http_request_duration_seconds_count{route="me",method="GET"}']) >= 3
    assert 'mes_http_request_duration_seconds_bucket{route="me",method="GET",le="+Inf"}' in lines
    assert "# TYPE mes_http_request_duration_seconds histogram" in text
    assert "# TYPE mes_http_requests_total counter" in text
    # Buckets are cumulative and end with the count.
    buckets = [(k, int(v)) for k, v in lines.items()
               if k.startswith('mes_http_request_duration_seconds_bucket{route="me",method="GET",')]
    assert len(buckets) > 3
    counts = [v for _, v in buckets]
    assert counts == sorted(counts)
    assert counts[-1] == int(lines['mes_http_request_duration_seconds_count{route="me",method="GET"}'])
    assert float(lines['mes_http_request_duration_seconds_sum{route="me",method="GET"}']) > 0
    assert int(lines["mes_http_threads"]) > 0
    assert int(lines["mes_db_connections"]) >= 1
    assert int(lines["mes_db_file_bytes"]) > 0


def test_counters_grow_with_traffic(node):
    def me_count():
        text = node.client().get("/metrics").body.decode()
        for l in text.splitlines():
            if l.startswith('mes_http_requests_total{route="me",method="GET",status="4xx"}'):
                return int(l.rsplit(" ", 1)[1])
        return 0

    before = me_count()
    for _ in range(2):
        assert node.client().get("/api/v1/me").status == 401
    assert me_count() == before + 2


def test_access_log_records_requests(node):
    node.client().get("/api/v1/access-log-probe")
    # The line is written just after the reply is sent: give the worker a moment.
    deadline = time.time() + 5
    while '"GET /api/v1/access-log-probe" 404' not in node.output() and time.time() < deadline:
        time.sleep(0.05)
    assert '"GET /api/v1/access-log-probe" 404' in node.output()


def test_the_writer_keeps_the_wal_short(node, w):
    """The writer checkpoints the WAL itself between batches (SQLite's automatic checkpoint is
    off on its connection): after 400 marks, one commit each (about 3,400 WAL frames, 14 MB
    were nothing copied back), the WAL file stays near the idle checkpoint's 256 frames."""
    teacher = node.login("teacher")
    lesson = w["lessons"][8]["id"]  # taken place

    def wal_bytes():
        text = node.client().get("/metrics").body.decode()
        return int(next(l.split()[1] for l in text.splitlines() if l.startswith("mes_db_wal_bytes ")))
    for i in range(400):
        r = teacher.post(f"/api/v1/lessons/{lesson}/marks", {
            "student_id": w["students"][i % len(w["students"])]["id"], "value": str(2 + i % 4),
            "control_form": "control"})
        assert r.status == 201, r
    assert wal_bytes() < 3 * 1024 * 1024
