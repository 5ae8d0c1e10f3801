"""Tests of the report's charts (bench/report/charts.py, matplotlib) and of how make_report embeds them.

    python3 -m unittest discover -s bench/report -p 'test_*.py'

The chart tests need matplotlib and are skipped, saying so, without it (the system python3); the
embedding tests use the standard library only.
"""
import os
import re
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_report  # noqa: E402

try:
    import charts
    MISSING = None
except ImportError as error:  # matplotlib not installed for this Python
    charts = None
    MISSING = str(error)
    print(f"test_charts: matplotlib not installed ({MISSING}): chart tests skipped", file=sys.stderr)

SVG = "{http://www.w3.org/2000/svg}"
ENGINES = ("edgevec-native", "edgevec-wasm", "hnswlib", "faiss", "usearch")
EDGEVEC_CELLS = (("native-swift", ("system", "jemalloc", "arena")), ("native-swift-sse", ("system",)),
                 ("native-c", ("system", "jemalloc", "arena")), ("wasm-node", ("dlmalloc", "arena")),
                 ("wasm-chromium", ("dlmalloc", "arena")))


def curve(engine, speed, spread=False):
    rows = []
    for i, ef in enumerate((10, 16, 32, 64, 128, 256)):
        r = {"engine": engine, "ef": ef, "recall_at_10": round(0.86 + 0.14 * (1 - 0.6 ** (i + 1)), 4),
             "qps": speed / (1 + i) ** 1.2}
        if spread:
            r["qps_low"], r["qps_high"] = r["qps"] * 0.9, r["qps"] * 1.05
        rows.append(r)
    return rows


def matrix(ns=(1000, 10000), skip=()):
    """Insert records as make_report holds them; cells in skip (tuples of data, n, target, allocator, api) and
    whole panels (tuples of data, n) left out."""
    out = []
    for data in ("constant", "uniform"):
        for n in ns:
            if (data, n) in skip:
                continue
            base = (5.0 if data == "constant" else 40.0) * (n / 1000) ** 0.3
            for target, allocators in EDGEVEC_CELLS:
                for allocator in allocators:
                    for k, api in enumerate(("single", "batch100", "batch1000")):
                        if (data, n, target, allocator, api) in skip:
                            continue
                        slow = 1.8 if target.startswith("wasm") else 1.0
                        out.append({"experiment": "insert", "target": target, "allocator": allocator, "api": api,
                                    "data": data, "n": n, "median_us_per_vector": base * slow * (1 - 0.04 * k)})
            for p, peer in enumerate(("hnswlib", "faiss", "usearch")):
                for api in ("single", "batch"):
                    out.append({"experiment": "insert", "target": peer, "allocator": "n/a", "api": api, "data": data,
                                "n": n, "median_us_per_vector": base * (8 + 6 * p) * (0.9 if api == "batch" else 1)})
    return out


def px(value):
    """An SVG length (matplotlib writes points) in CSS pixels (96 per inch)."""
    number, unit = re.fullmatch(r"([0-9.]+)(pt|px)?", value).groups()
    return float(number) * (96 / 72 if unit == "pt" else 1)


@unittest.skipIf(charts is None, f"matplotlib not installed: {MISSING}")
class ChartTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def svg(self, path):
        with open(path, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"<?xml"), path)
        root = ET.fromstring(data)
        self.assertEqual(root.tag, SVG + "svg")
        width, height = px(root.get("width")), px(root.get("height"))
        self.assertLessEqual(height, 1000, "taller than a screen")
        self.assertTrue(900 <= width <= 1050, f"width {width:.0f} px")
        return data, root

    @staticmethod
    def texts(element):
        return ["".join(t.itertext()) for t in element.iter(SVG + "text")]

    @staticmethod
    def group(root, gid_prefix):
        return [g for g in root.iter(SVG + "g") if (g.get("id") or "").startswith(gid_prefix)]

    def recall(self, name, per_engine):
        out = charts.recall_qps_chart(self.path(name), "Recall@10 vs queries/s: test", per_engine)
        self.assertEqual(out, self.path(name))
        return self.svg(out)

    def test_recall_chart_has_every_engine_and_the_095_line(self):
        per = {e: curve(e, 20000 / (1 + i)) for i, e in enumerate(ENGINES)}
        data, root = self.recall("r.svg", per)
        (legend,) = self.group(root, "legend")
        self.assertEqual([t for t in self.texts(legend) if t in ENGINES], list(ENGINES))  # every engine, in order
        self.assertEqual(len(self.group(root, "recall-0.95")), 1)
        self.assertIn("recall 0.95", self.texts(root))
        texts = " ".join(self.texts(root))
        self.assertIn("points are ef values", texts)
        self.assertNotIn("spread across passes", texts)
        self.assertNotIn(b"<dc:date>", data)

    def test_recall_chart_draws_the_spread_when_given(self):
        per = {"edgevec-native": curve("edgevec-native", 20000, spread=True), "hnswlib": curve("hnswlib", 15000)}
        _, root = self.recall("r.svg", per)
        (legend,) = self.group(root, "legend")
        self.assertIn("spread across passes", self.texts(legend))

    def test_same_input_same_bytes(self):
        per = {e: curve(e, 20000 / (1 + i)) for i, e in enumerate(ENGINES)}
        a, _ = self.recall("a.svg", per)
        b, _ = self.recall("b.svg", per)
        self.assertEqual(a, b)
        records = matrix(ns=(1000, 10000, 100000))
        charts.insert_chart(self.path("a.svg"), records)
        charts.insert_chart(self.path("b.svg"), records)
        with open(self.path("a.svg"), "rb") as f, open(self.path("b.svg"), "rb") as g:
            self.assertEqual(f.read(), g.read())

    def test_nothing_to_draw(self):
        self.assertIsNone(charts.recall_qps_chart(self.path("r.svg"), "t", {}))
        self.assertIsNone(charts.recall_qps_chart(self.path("r.svg"), "t", {"hnswlib": [
            {"ef": 10, "recall_at_10": None, "qps": None}]}))
        self.assertIsNone(charts.insert_chart(self.path("i.svg"), []))
        self.assertFalse(os.path.exists(self.path("r.svg")) or os.path.exists(self.path("i.svg")))

    def insert(self, records):
        out = charts.insert_chart(self.path("insert.svg"), records)
        self.assertEqual(out, self.path("insert.svg"))
        return self.svg(out)

    def panels(self, root):
        return sorted(g.get("id") for g in self.group(root, "panel-"))

    def test_one_panel_per_data_and_n(self):
        _, root = self.insert(matrix(ns=(1000, 10000)))
        self.assertEqual(self.panels(root), ["panel-constant-1000", "panel-constant-10000", "panel-uniform-1000",
                                             "panel-uniform-10000"])
        texts = self.texts(root)
        for title in ("constant data, N = 1,000", "uniform data, N = 10,000", charts.INSERT_TITLE):
            self.assertIn(title, texts)
        for peer in ("hnswlib", "faiss", "usearch", "hnswlib batch"):  # reference lines, labelled per panel
            self.assertEqual(texts.count(peer), 4, peer)
        (legend,) = self.group(root, "legend")
        legend_texts = self.texts(legend)
        for label in ("system malloc (glibc)", "jemalloc", "bump arena", "dlmalloc (wasi-libc)", "one insert per call",
                      "batches of 100", "batches of 1,000", "peer, one add per vector"):
            self.assertIn(label, legend_texts)
        self.assertNotIn("not measured", legend_texts)

    def test_n_100000_adds_a_row_and_stays_under_a_screen(self):
        _, two = self.insert(matrix(ns=(1000, 10000)))
        _, three = self.insert(matrix(ns=(1000, 10000, 100000)))
        self.assertEqual(len(self.panels(three)), 6)
        self.assertIn("uniform data, N = 100,000", self.texts(three))
        self.assertGreater(px(three.get("height")), px(two.get("height")))

    def test_missing_cells_and_panels(self):
        skip = {("uniform", 100000), ("constant", 1000, "wasm-chromium", "arena", "batch1000")}
        _, root = self.insert(matrix(ns=(1000, 100000), skip=skip))
        self.assertEqual(self.panels(root), ["panel-constant-1000", "panel-constant-100000", "panel-uniform-1000"])
        texts = self.texts(root)
        self.assertIn("uniform data, N = 100,000: not measured", texts)
        (legend,) = self.group(root, "legend")
        self.assertIn("not measured", self.texts(legend))

    def test_peers_alone_or_edgevec_alone(self):
        _, root = self.insert([r for r in matrix(ns=(1000,)) if r["target"] in make_report.PEERS])
        self.assertEqual(len(self.panels(root)), 2)
        _, root = self.insert([r for r in matrix(ns=(1000,)) if r["target"] not in make_report.PEERS])
        self.assertNotIn("hnswlib", self.texts(root))


class EmbeddingTests(unittest.TestCase):
    """make_report embeds a chart, with its caption, only when it was drawn (standard library only)."""

    def search(self):
        out = []
        for engine in ("edgevec-native", "hnswlib"):
            for r in curve(engine, 10000):
                r.update({"experiment": "search", "kind": "curve", "dataset": "synthetic128", "n": 1000, "dim": 128,
                          "queries": 100, "metric": "l2"})
                out.append(r)
        return out

    def test_search_chart_embedded_only_when_drawn(self):
        md, _ = make_report.search_sections(self.search(), False, ["recall-qps-synthetic128.svg"])
        self.assertIn("](recall-qps-synthetic128.svg)", md)
        self.assertIn("0.95 line", md)
        md, _ = make_report.search_sections(self.search(), False, [])
        self.assertNotIn(".svg", md)

    def test_insert_chart_embedded_only_when_drawn(self):
        records = matrix(ns=(1000,))
        md, _ = make_report.insert_sections(records, "insert.jsonl", ["insert-matrix.svg"])
        self.assertIn("](insert-matrix.svg)", md)
        self.assertIn("Lower is faster", md)
        md, _ = make_report.insert_sections(records, "insert.jsonl", [])
        self.assertNotIn(".svg", md)


if __name__ == "__main__":
    unittest.main()
