#!/usr/bin/env python3
"""Trains summarise's sentence scorer on QMSum's training splits and writes Plugins/summarise/scorer.json.

    pip install rouge-score pyzmq numpy
    swift build --product meetingd && swift build --product summarise
    python3 Benchmarks/summarise/summary_words.py            # the table two features read (compiled in)
    swift build --product summarise
    python3 Benchmarks/summarise/train_scorer.py             # academic + committee train splits
    swift build --product summarise                          # scorer.json is compiled into the module
    python3 Benchmarks/summarise/evaluate.py                 # val, 100 words
    python3 Benchmarks/summarise/train_scorer.py --folds 3   # held-out ROUGE within the training splits
    python3 Benchmarks/summarise/train_scorer.py --harvest rows.pkl   # label once, then fit variants from it:
    python3 Benchmarks/summarise/train_scorer.py --rows rows.pkl --depth 3 --out /tmp/try.json
    python3 Benchmarks/summarise/train_scorer.py --rows rows.pkl --meeting-kind trees --out /tmp/try.json

Every query of the splits goes through a daemon serving them, with `summarise.meeting`'s
`explain`: each candidate sentence with the features the module's scorer reads. A greedy
oracle labels the candidates: the sentences that, added one by one, most raise ROUGE-1 +
ROUGE-2 F1 against the reference answer within the word budget, among the sentences of the
turns annotated as relevant when the query has such spans. Then one model for the candidates of
questions whose subject was located (the located stretches' sentences) and one for whole-meeting
summaries, each of either kind (numpy, logistic loss; each query weighs the same, its positives as
much as its negatives): gradient-boosted trees, the default for questions, or a logistic regression
(Newton's method with an L2 penalty), the default for whole meetings, whose 65 training queries are
too few for trees (val ROUGE-1 30.39 linear, 29.15 trees). The whole-meeting model also learns from
the questions' candidates and oracle picks, their question's features zeroed (`--pool-questions`, the
weight of those queries; 0 leaves them out). The models are written with the feature names, which the
module checks at open.
Only training splits are read: val and the held-out test split stay unseen. To compare
training choices without looking at val, `--folds K` holds out every K-th meeting of the
splits in turn, fits on the others, and scores the held-out meetings' queries through a
daemon loading that fold's weights (the module's own locating and choice, nothing simulated);
it writes no scorer.json.
"""
import argparse
import json
import os
import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np
from rouge_score import rouge_scorer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import ROOT, Client, Daemon, explained_queries, sentences  # noqa: E402

SHARED = ROOT.parent / "shared" / "qmsum"
ORACLE_POOL = 60  # candidates the greedy oracle considers: the best on their own


def ngrams(tokens, n):
    counts = {}
    for gram in zip(*(tokens[i:] for i in range(n))):
        counts[gram] = counts.get(gram, 0) + 1
    return counts


def f1(overlap, candidate, reference):
    if not overlap or not candidate or not reference:
        return 0.0
    precision, recall = overlap / candidate, overlap / reference
    return 2 * precision * recall / (precision + recall)


class Oracle:
    """ROUGE-1 + ROUGE-2 F1 of a set of sentences against one reference, tokenised once, as rouge-score does."""

    def __init__(self, tokenize, reference):
        self.tokenize = tokenize
        tokens = tokenize(reference)
        self.reference = [ngrams(tokens, 1), ngrams(tokens, 2)]
        self.reference_sizes = [max(len(tokens), 0), max(len(tokens) - 1, 0)]

    def score(self, grams):
        total = 0.0
        for n in (0, 1):
            candidate = grams[n]
            overlap = sum(min(count, self.reference[n].get(gram, 0)) for gram, count in candidate.items())
            total += f1(overlap, sum(candidate.values()), self.reference_sizes[n])
        return total

    def label(self, texts, words, budget):
        """Indices the greedy oracle picks from `texts` (each of `words` words) within `budget` words."""
        tokens = [self.tokenize(text) for text in texts]
        alone = [self.score([ngrams(t, 1), ngrams(t, 2)]) for t in tokens]
        pool = sorted(range(len(texts)), key=lambda i: -alone[i])[:ORACLE_POOL]
        chosen, chosen_tokens, best, used = [], [], 0.0, 0
        while True:
            step = None
            for i in pool:
                if i in chosen or used + words[i] > budget:
                    continue
                # Sentences are joined as separate lines: no bigram spans two of them.
                joined = chosen_tokens + [tokens[i]]
                grams = [{}, {}]
                for t in joined:
                    for n in (0, 1):
                        for gram, count in ngrams(t, n + 1).items():
                            grams[n][gram] = grams[n].get(gram, 0) + count
                value = self.score(grams)
                if value > best and (step is None or value > step[1]):
                    step = (i, value)
            if step is None:
                return chosen
            chosen.append(step[0])
            chosen_tokens.append(tokens[step[0]])
            best = step[1]
            used += words[step[0]]


def harvest(client, split_paths, budget, tokenize):
    """Per query: the scorer's model, the candidates' features and their oracle labels."""
    rows = []
    for meeting, query, explain in explained_queries(client, split_paths, budget):
        candidates = explain["candidates"]
        # Where the annotators marked the answer's turns, the oracle picks among those only:
        # a sentence elsewhere that happens to share the answer's words teaches the wrong place.
        spans = [(int(a), int(b)) for a, b in query.get("relevant_text_span") or []]
        pool = [i for i, c in enumerate(candidates) if not spans or any(a <= c["turn"] <= b for a, b in spans)]
        labels = np.zeros(len(candidates))
        picked = Oracle(tokenize, query["answer"]).label([candidates[i]["text"] for i in pool],
                                                         [candidates[i]["words"] for i in pool], budget)
        labels[[pool[i] for i in picked]] = 1
        rows.append({"model": explain["model"], "features": explain["features"], "without_question": explain["without_question"],
                     "x": np.array([c["features"] for c in candidates]), "y": labels,
                     "texts": [c["text"] for c in candidates], "words": [c["words"] for c in candidates],
                     "speakers": [c["speaker"] for c in candidates], "reference": query["answer"], "meeting": meeting})
    print(f"{len(rows)} queries", file=sys.stderr)
    return rows


def query_weights(rows):
    """Each query weighs 1, half on its positives and half on its negatives."""
    return np.concatenate([np.where(r["y"] > 0, 0.5 / max(r["y"].sum(), 1), 0.5 / max((1 - r["y"]).sum(), 1))
                           for r in rows])


def fit_linear(x, y, weight, penalty):
    """Logistic regression by Newton's method, the L2 penalty on the standardised weights."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1  # a constant feature (always 0 for one model) keeps weight 0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    ridge = penalty * np.eye(z.shape[1])
    ridge[-1, -1] = 0
    for _ in range(50):
        p = 1 / (1 + np.exp(-z @ beta))
        gradient = z.T @ (weight * (p - y)) + ridge @ beta
        hessian = (z * (weight * p * (1 - p))[:, None]).T @ z + ridge
        delta = np.linalg.solve(hessian, gradient)
        beta -= delta
        if np.abs(delta).max() < 1e-8:
            break
    weights = beta[:-1] / scale
    bias = beta[-1] - (weights * mean).sum()
    return weights, bias


def bin_edges(column, bins):
    """Candidate thresholds: data values at quantiles (x <= t goes left), so a float32 feature compares the same in Swift."""
    values = np.unique(column)
    if len(values) <= bins:
        return values[:-1]
    picks = np.unique(np.quantile(column, np.linspace(0, 1, bins + 1)[1:-1], method="lower"))
    return picks[picks < values[-1]]

def fit_trees(x, y, weight, trees, depth, rate, l2=0.1, min_hessian=2.0, bins=64):
    """Gradient boosting on the logistic loss: each tree fits the loss's Newton step (gradient over hessian)
    with splits chosen among `bins` quantile thresholds per feature; `min_hessian` keeps a leaf from resting
    on a handful of queries' candidates (a query's candidates together weigh at most 1/4)."""
    n, d = x.shape
    edges = [bin_edges(x[:, j], bins) for j in range(d)]
    codes = np.stack([np.searchsorted(edges[j], x[:, j], side="left") for j in range(d)], axis=1)  # code k: x <= edges[k]
    p0 = np.clip((weight * y).sum() / weight.sum(), 1e-6, 1 - 1e-6)
    base = float(np.log(p0 / (1 - p0)))
    margin = np.full(n, base)
    ensemble = []
    for _ in range(trees):
        p = 1 / (1 + np.exp(-margin))
        g, h = weight * (p - y), weight * p * (1 - p)
        tree = grow(codes, edges, g, h, depth, l2, min_hessian, rate)
        ensemble.append(tree)
        margin += predict_tree(tree, x)
    return base, ensemble

def grow(codes, edges, g, h, depth, l2, min_hessian, rate):
    nodes = []  # [feature, threshold, left, right, value]
    def build(rows, level):
        G, H = g[rows].sum(), h[rows].sum()
        index = len(nodes)
        nodes.append([-1, 0.0, -1, -1, float(-G / (H + l2) * rate)])
        if level == depth or len(rows) < 2:
            return index
        best = None
        parent = G * G / (H + l2)
        for j in range(codes.shape[1]):
            k = len(edges[j])
            if k == 0:
                continue
            hg = np.bincount(codes[rows, j], weights=g[rows], minlength=k + 1)
            hh = np.bincount(codes[rows, j], weights=h[rows], minlength=k + 1)
            gl, hl = np.cumsum(hg)[:-1], np.cumsum(hh)[:-1]
            gr, hr = G - gl, H - hl
            ok = (hl >= min_hessian) & (hr >= min_hessian)
            if not ok.any():
                continue
            gain = np.where(ok, gl * gl / (hl + l2) + gr * gr / (hr + l2) - parent, -np.inf)
            b = int(np.argmax(gain))
            if gain[b] > 1e-12 and (best is None or gain[b] > best[0]):
                best = (gain[b], j, b)
        if best is None:
            return index
        _, j, b = best
        goes_left = codes[rows, j] <= b
        nodes[index][0], nodes[index][1] = j, float(edges[j][b])
        nodes[index][2] = build(rows[goes_left], level + 1)
        nodes[index][3] = build(rows[~goes_left], level + 1)
        return index
    build(np.arange(len(g)), 0)
    return nodes

def predict_tree(nodes, x):
    feature, threshold, left, right, value = (np.array(c) for c in zip(*nodes))
    feature, left, right = feature.astype(int), left.astype(int), right.astype(int)
    at = np.zeros(len(x), dtype=int)
    rows = np.arange(len(x))
    while True:
        inner = feature[at] >= 0
        if not inner.any():
            return value[at]
        f = np.where(inner, feature[at], 0)
        step = np.where(x[rows, f] <= threshold[at], left[at], right[at])
        at = np.where(inner, step, at)


def as_whole_meeting(row):
    """A question's candidates as a whole-meeting summary reads them, by the module's rule (`explain`'s
    `without_question`): no feature of the question, and each feature biased towards it the one it equals without."""
    names, rule = row["features"], row["without_question"]
    x = row["x"].copy()
    x[:, [names.index(name) for name in rule["zero"]]] = 0
    for name, plain in rule["same_as"].items():
        x[:, names.index(name)] = row["x"][:, names.index(plain)]
    return {**row, "x": x}


def scorer_file(rows, args, report=False):
    """The scorer file's content: one model per kind of candidates, fitted on `rows`, each of the kind its option names."""
    names = rows[0]["features"]
    output = {"trained_on": [p.name for p in args.splits], "oracle_words": args.words, "features": names}
    for model in ("question", "meeting"):
        subset = [r for r in rows if r["model"] == model]
        # A query whose located candidates hold none of the oracle's picks teaches nothing about ranking them.
        taught = [r for r in subset if r["y"].sum() > 0]
        weight = query_weights(taught)
        if model == "meeting" and args.pool_questions > 0:
            # The whole-meeting model has 65 training queries; the questions' oracle picks also say which
            # sentences written answers keep, once their question's features are taken away.
            pooled = [as_whole_meeting(r) for r in rows if r["model"] == "question" and r["y"].sum() > 0]
            weight = np.concatenate([weight, query_weights(pooled) * args.pool_questions])
            taught = taught + pooled
        x, y = np.vstack([r["x"] for r in taught]), np.concatenate([r["y"] for r in taught])
        kind = getattr(args, f"{model}_kind")
        if kind == "linear":
            weights, bias = fit_linear(x, y, weight, args.penalty)
            output[model] = {"kind": kind, "queries": len(taught), "weights": [round(float(w), 6) for w in weights],
                             "bias": round(float(bias), 6)}
            per_feature, unit = weights, "weight"
        else:
            base, trees = fit_trees(x, y, weight, args.trees, args.depth, args.rate)
            output[model] = {"kind": kind, "queries": len(taught), "base": round(base, 6),
                             "trees": [[[int(f), float(t), int(l), int(r)] if f >= 0 else [round(v, 6)] for f, t, l, r, v in tree]
                                       for tree in trees]}
            per_feature, unit = np.bincount([f for tree in trees for f, *_ in tree if f >= 0], minlength=len(names)), "splits"
        if report:
            print(f"{model} ({kind}): {len(subset)} queries, {sum(len(r['y']) for r in subset)} candidates, "
                  f"{int(sum(r['y'].sum() for r in subset))} oracle picks", file=sys.stderr)
            for name, value in zip(names, per_feature):
                print(f"  {name:<20}{value:>10.3f} {unit}", file=sys.stderr)
    return output


def readable(scorer):
    """The scorer file's text: one line a tree (or a linear model's weights), so that a retraining's diff stays legible."""
    def model(entry):
        if entry["kind"] == "linear":
            return json.dumps(entry)
        trees = ",\n  ".join(json.dumps(tree, separators=(",", ":")) for tree in entry["trees"])
        return f'{{"kind": "trees", "queries": {entry["queries"]}, "base": {entry["base"]}, "trees": [\n  {trees}]}}'
    head = ",\n".join(f"{json.dumps(key)}: {json.dumps(value)}" for key, value in scorer.items() if key not in ("question", "meeting"))
    return "{\n" + head + ",\n" + ",\n".join(f'"{key}": {model(scorer[key])}' for key in ("question", "meeting")) + "\n}\n"


def held_out(rows, args):
    """ROUGE-1/2 F1 of each meeting's queries under weights fitted without that meeting (`--folds`)."""
    meetings = sorted({r["meeting"] for r in rows})
    rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
    scores = []  # (split, kind, R-1, R-2)
    with tempfile.TemporaryDirectory() as folder:
        for fold in range(args.folds):
            held = set(meetings[fold::args.folds])
            weights = Path(folder) / f"fold-{fold}.json"
            weights.write_text(json.dumps(scorer_file([r for r in rows if r["meeting"] not in held], args)))
            daemon = Daemon(args.meetingd, *args.splits, scorer=weights)
            try:
                client = Client(daemon.endpoint)
                client.wait_ready()
                for path in args.splits:
                    for line_number, line in enumerate(path.read_text().splitlines()):
                        meeting = f"{path.stem}-{line_number}"
                        if meeting not in held:
                            continue
                        data = json.loads(line)
                        for kind in ("general", "specific"):
                            for query in data[f"{kind}_query_list"]:
                                result = client.call("summarise.meeting", {"meeting": meeting, "query": query["query"],
                                                                           "max_words": args.words})
                                score = rouge.score(sentences(query["answer"]), sentences(result["summary"]))
                                scores.append((path.stem, kind, score["rouge1"].fmeasure * 100, score["rouge2"].fmeasure * 100))
            finally:
                daemon.stop()
            print(f"fold {fold + 1} of {args.folds}: {len(held)} meetings held out", file=sys.stderr)
    print(f"held-out ROUGE F1 ({args.folds} folds by meeting, {args.words} words): queries, R-1, R-2")
    for split in [p.stem for p in args.splits] + ["all"]:
        for kind in ("general", "specific", "both"):
            subset = [s for s in scores if split in ("all", s[0]) and kind in ("both", s[1])]
            if subset:
                print(f"{split:<18}{kind:<10}{len(subset):>5}{np.mean([s[2] for s in subset]):>8.2f}{np.mean([s[3] for s in subset]):>8.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splits", nargs="+", type=Path,
                        default=[SHARED / "academic-train.jsonl", SHARED / "committee-train.jsonl"])
    parser.add_argument("--meetingd", default=os.environ.get("MEETINGD_BIN", str(ROOT / ".build/debug/meetingd")))
    parser.add_argument("--words", type=int, default=100, help="word budget of the oracle and the queries (default 100)")
    parser.add_argument("--question-kind", choices=("trees", "linear"), default="trees", help="model for questions (default trees)")
    parser.add_argument("--meeting-kind", choices=("trees", "linear"), default="linear",
                        help="model for whole meetings (default linear: too few queries for trees)")
    parser.add_argument("--trees", type=int, default=300, help="boosting rounds (trees)")
    parser.add_argument("--depth", type=int, default=2, help="depth of each tree (trees)")
    parser.add_argument("--rate", type=float, default=0.025, help="learning rate, the shrinkage of each tree (trees)")
    parser.add_argument("--penalty", type=float, default=0.01, help="L2 penalty on the standardised weights (linear)")
    parser.add_argument("--pool-questions", type=float, default=1.0,
                        help="weight of the question queries, their question's features zeroed, among the whole-meeting "
                             "model's training queries (each of its own queries weighs 1; 0 leaves them out; default 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "Plugins/summarise/scorer.json")
    parser.add_argument("--harvest", type=Path, help="only write the labelled candidates to this pickle (for experiments)")
    parser.add_argument("--rows", type=Path, help="read the labelled candidates from this pickle (--harvest) instead of harvesting")
    parser.add_argument("--folds", type=int, help="only report held-out ROUGE, fitting without every K-th meeting in turn")
    args = parser.parse_args()
    if any(path.name.startswith(("val", "test")) for path in args.splits):
        parser.error("train on training splits only: val and test measure the result")

    if args.rows:
        rows = pickle.loads(args.rows.read_bytes())
    else:
        tokenize = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)._tokenizer.tokenize
        daemon = Daemon(args.meetingd, *args.splits)
        try:
            client = Client(daemon.endpoint)
            client.wait_ready()
            rows = harvest(client, args.splits, args.words, tokenize)
        finally:
            daemon.stop()
    if args.harvest:
        args.harvest.write_bytes(pickle.dumps(rows))
        return
    if args.folds:
        held_out(rows, args)
        return
    args.out.write_text(readable(scorer_file(rows, args, report=True)))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
