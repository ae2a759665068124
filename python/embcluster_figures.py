"""The figures of an embcluster report, drawn with matplotlib (Agg) as PNG bytes.

Every figure a reader should take in at a glance: titles that say what is shown, labelled axes,
one colour per cluster shared by every figure of a report (noise in grey), legends only where
they stay readable, and tick labels thinned out for many clusters.
"""
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

NOISE = "#b0b0b0"
MARK = "#c0392b"  # the value a figure points at: knee, suggested k, eps, mean
SUGGEST = "#1e8449"
plt.rcParams.update({"font.size": 10, "axes.titlesize": 12, "axes.titleweight": "bold",
                     "axes.grid": True, "grid.alpha": 0.3, "axes.axisbelow": True})


def png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buf.getvalue()


def cluster_colours(labels):
    """label -> colour: tab10 / tab20 while they last, evenly spread hues beyond; noise grey."""
    labels = sorted(int(v) for v in set(labels) if v >= 0)
    n = len(labels)
    if n <= 10:
        cols = [plt.get_cmap("tab10")(i) for i in range(n)]
    elif n <= 20:
        cols = [plt.get_cmap("tab20")(i) for i in range(n)]
    else:
        cols = [plt.get_cmap("turbo")(0.05 + 0.9 * i / (n - 1)) for i in range(n)]
    out = dict(zip(labels, cols))
    out[-1] = NOISE
    return out


def tick_step(n, room):
    """Every step-th tick label so that at most `room` of them are written."""
    return max(1, int(np.ceil(n / room)))


def sizes(counts, labels, noise=0):
    """Rows per cluster, largest first, one bar per cluster (+ noise, grey, at the end)."""
    counts = np.asarray(counts, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    order = np.argsort(-counts, kind="stable")
    cols = cluster_colours(labels)
    bars_l = list(labels[order]) + ([-1] if noise else [])
    bars_n = list(counts[order]) + ([noise] if noise else [])
    k = len(bars_n)
    fig, ax = plt.subplots(figsize=(min(12, max(6, 0.3 * k + 2)), 3.6))
    x = np.arange(k)
    ax.bar(x, bars_n, color=[cols[int(v)] for v in bars_l], width=0.8)
    step = tick_step(k, 40)
    ax.set_xticks(x[::step])
    ax.set_xticklabels(["noise" if v < 0 else str(v) for v in bars_l[::step]],
                       fontsize=8 if k <= 30 else 7, rotation=0 if k <= 30 else 90)
    if k <= 20:
        for xi, n in zip(x, bars_n):
            ax.annotate(str(n), (xi, n), ha="center", va="bottom", fontsize=8,
                        xytext=(0, 2), textcoords="offset points")
        ax.set_ylim(0, max(bars_n) * 1.12)
    ax.set_xlabel("cluster (largest first)")
    ax.set_ylabel("rows")
    total = int(sum(bars_n))
    ax.set_title("Rows per cluster: %d clusters, %d rows%s" %
                 (len(counts), total, ", %d noise" % noise if noise else ""))
    ax.grid(axis="x", visible=False)
    return png(fig)


def cluster_silhouette(clusters, score):
    """Mean silhouette of each cluster, one horizontal bar per cluster, the overall mean marked."""
    labels = [int(c["label"]) for c in clusters]
    means = np.array([np.nan if c.get("silhouette") is None else c["silhouette"]
                      for c in clusters], dtype=float)
    cols = cluster_colours(labels)
    k = len(labels)
    if k > 40:
        return _many_silhouettes(labels, means, score, cols)
    fig, ax = plt.subplots(figsize=(7, max(3.2, 0.22 * k + 1.2)))
    y = np.arange(k)
    ax.barh(y, np.nan_to_num(means), color=[cols[v] for v in labels], height=0.8)
    ax.axvline(score, color=MARK, linestyle="--", linewidth=1.5, label="mean %.3f" % score)
    ax.axvline(0, color="black", linewidth=0.8)
    step = tick_step(k, 50)
    ax.set_yticks(y[::step])
    ax.set_yticklabels([str(v) for v in labels[::step]], fontsize=8 if k <= 40 else 7)
    ax.invert_yaxis()
    lo = min(0.0, np.nanmin(means) if np.isfinite(means).any() else 0.0)
    ax.set_xlim(lo - 0.05, 1.0)
    ax.set_xlabel("mean silhouette of the cluster's rows (1 = well separated, < 0 = misplaced)")
    ax.set_ylabel("cluster")
    ax.set_title("Silhouette per cluster")
    ax.legend(loc="lower right")
    ax.grid(axis="y", visible=False)
    return png(fig)


def _many_silhouettes(labels, means, score, cols):
    """Too many clusters for a bar each in a column: the clusters sorted by their silhouette, the
    weakest at the right."""
    order = np.argsort(-np.nan_to_num(means, nan=-2), kind="stable")
    k = len(labels)
    fig, ax = plt.subplots(figsize=(12, 3.8))
    x = np.arange(k)
    ax.bar(x, np.nan_to_num(means[order]), color=[cols[labels[i]] for i in order], width=0.85)
    ax.axhline(score, color=MARK, linestyle="--", linewidth=1.5, label="mean %.3f" % score)
    ax.axhline(0, color="black", linewidth=0.8)
    step = tick_step(k, 50)
    ax.set_xticks(x[::step])
    ax.set_xticklabels([str(labels[i]) for i in order[::step]], fontsize=7, rotation=90)
    ax.set_xlim(-1, k)
    ax.set_xlabel("cluster, highest silhouette first" +
                  ("" if step == 1 else " (every %d-th label written)" % step))
    ax.set_ylabel("mean silhouette")
    ax.set_title("Silhouette per cluster: %d clusters, weakest at the right" % k)
    ax.legend(loc="upper right")
    ax.grid(axis="x", visible=False)
    return png(fig)


def silhouette_samples(samples, labels, score):
    """The classic silhouette plot: every scored row's value, sorted within its cluster, the
    clusters stacked, the overall mean marked."""
    ok = ~np.isnan(samples) & (labels >= 0)
    samples, labels = samples[ok], labels[ok]
    uniq = np.unique(labels)
    cols = cluster_colours(uniq)
    fig, ax = plt.subplots(figsize=(7, min(12, max(4.5, 0.18 * len(uniq) + 2))))
    gap = max(1, len(samples) // 100)
    y = 0
    for c in uniq:
        v = np.sort(samples[labels == c])
        ax.fill_betweenx(np.arange(y, y + len(v)), 0, v, color=cols[int(c)], linewidth=0)
        if len(uniq) <= 40:
            ax.text(-0.02, y + len(v) / 2, str(c), fontsize=7, ha="right", va="center")
        y += len(v) + gap
    # The mean written above the plot: a legend box would cover the rows of a cluster.
    ax.axvline(score, color=MARK, linestyle="--", linewidth=1.5)
    ax.text(score, 1.005, "mean %.3f" % score, transform=ax.get_xaxis_transform(), ha="center",
            va="bottom", color=MARK, fontsize=9)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlim(min(-0.1, float(samples.min()) - 0.02) if len(samples) else -0.1, 1.0)
    ax.set_ylim(0, y)
    ax.set_xlabel("silhouette of the row")
    ax.set_ylabel("rows, sorted within each cluster (label at the left)")
    ax.set_yticks([])
    ax.set_title("Silhouette plot: %d rows in %d clusters" % (len(samples), len(uniq)), pad=18)
    return png(fig)


def history(hist):
    it = [h["iteration"] for h in hist]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(it, [h["inertia"] for h in hist], marker="o", markersize=3)
    ax.set_xlabel("iteration")
    ax.set_ylabel("inertia (sum of squared distances)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title("K-means inertia per iteration")
    return png(fig)


def _mark_k(ax, k, colour, text):
    ax.axvline(k, color=colour, linestyle="--", linewidth=1.3, label=text)


def sweep(points, elbow, suggested):
    """Inertia over k with the knee marked; silhouette over k with its 95% interval and the
    suggested k marked."""
    ks = np.array([p["k"] for p in points])
    inertia = np.array([p["inertia"] for p in points])
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4))
    a1.plot(ks, inertia, marker="o", markersize=4)
    if elbow and elbow in ks:
        a1.plot([elbow], inertia[ks == elbow], "o", color=MARK, markersize=10, fillstyle="none",
                markeredgewidth=2)
        _mark_k(a1, elbow, MARK, "knee (Kneedle): k = %d%s" % (
            elbow, ", also the suggested k" if elbow == suggested else ""))
    if suggested and suggested != elbow:
        _mark_k(a1, suggested, SUGGEST, "suggested: k = %d" % suggested)
    a1.set_xlabel("k (clusters)")
    a1.set_ylabel("inertia")
    a1.set_title("Elbow: inertia over k")
    if a1.get_legend_handles_labels()[0]:
        a1.legend(loc="upper right")
    s = np.array([p["silhouette"] for p in points], dtype=float)
    lo = np.array([p["silhouette_ci95"][0] for p in points], dtype=float)
    hi = np.array([p["silhouette_ci95"][1] for p in points], dtype=float)
    a2.fill_between(ks, lo, hi, alpha=0.25, color="#55a868", label="95% interval")
    a2.plot(ks, s, marker="o", markersize=4, color="#2e7d32", label="silhouette")
    if suggested and suggested in ks:
        a2.plot([suggested], s[ks == suggested], "o", color=SUGGEST, markersize=10,
                fillstyle="none", markeredgewidth=2)
        _mark_k(a2, suggested, SUGGEST, "suggested: k = %d%s" % (
            suggested, ", also the knee" if suggested == elbow else ""))
    if elbow and elbow != suggested:
        _mark_k(a2, elbow, MARK, "knee: k = %d" % elbow)
    a2.set_xlabel("k (clusters)")
    a2.set_ylabel("sampled silhouette (higher is better)")
    a2.set_title("Silhouette over k")
    a2.legend(loc="best", fontsize=8)
    pad = max(0.5, 0.03 * (ks.max() - ks.min()))  # a mark at the last k stays visible
    for a in (a1, a2):
        a.xaxis.get_major_locator().set_params(integer=True)
        a.set_xlim(ks.min() - pad, ks.max() + pad)
    fig.tight_layout()
    return png(fig)


def sweep_indices(points, suggested):
    """Davies-Bouldin (lower is better) and Calinski-Harabasz (higher is better) over k."""
    ks = [p["k"] for p in points]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 3.4))
    a1.plot(ks, [p["davies_bouldin"] for p in points], marker="o", markersize=4, color="#8172b2")
    a1.set_ylabel("Davies-Bouldin (lower is better)")
    a1.set_title("Davies-Bouldin over k")
    a2.plot(ks, [p["calinski_harabasz"] for p in points], marker="o", markersize=4,
            color="#937860")
    a2.set_ylabel("Calinski-Harabasz (higher is better)")
    a2.set_title("Calinski-Harabasz over k")
    for a in (a1, a2):
        if suggested:
            _mark_k(a, suggested, SUGGEST, "suggested: k = %d" % suggested)
            a.legend(loc="best", fontsize=8)
        a.set_xlabel("k (clusters)")
        a.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    return png(fig)


def kdist(curve, eps, knee, k):
    """Every sampled row's distance to its k-th nearest row, sorted, with the knee and the
    suggested eps marked."""
    curve = np.asarray(curve, dtype=float)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    x = np.arange(len(curve))
    ax.plot(x, curve, color="#4c72b0", linewidth=1.5)
    if eps and eps > 0:
        ax.axhline(eps, color=MARK, linestyle="--", linewidth=1.3,
                   label="suggested eps = %.4g" % eps)
        if knee is not None and 0 <= knee < len(curve):
            ax.plot([knee], [curve[knee]], "o", color=MARK, markersize=9, fillstyle="none",
                    markeredgewidth=2, label="knee (row %d)" % knee)
        ax.legend(loc="upper left")
    ax.set_xlabel("rows, sorted by the distance")
    ax.set_ylabel("distance to the %d-th nearest row" % k)
    ax.set_title("k-distance curve (k = %d; DBSCAN eps at the knee)" % k)
    return png(fig)


def explained(ratio):
    ratio = np.asarray(ratio, dtype=float)
    n = len(ratio)
    x = np.arange(1, n + 1)
    cum = np.cumsum(ratio)
    fig, ax = plt.subplots(figsize=(min(12, max(6, 0.25 * n + 3)), 3.6))
    ax.bar(x, ratio, color="#4c72b0", label="per component")
    ax.plot(x, cum, color=MARK, marker="o", markersize=3, label="cumulative")
    ax.annotate("%.1f%%" % (100 * cum[-1]), (x[-1], cum[-1]), xytext=(0, 6),
                textcoords="offset points", ha="center", fontsize=9, color=MARK)
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("principal component")
    ax.set_ylabel("share of the total variance")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Explained variance: %d components keep %.1f%%" % (n, 100 * cum[-1]))
    ax.legend(loc="center right")
    return png(fig)


def scatter(xy, labels, share, title):
    """A 2-D projection coloured by cluster; a legend while there are at most 20 clusters."""
    labels = np.asarray(labels, dtype=np.int64)
    uniq = np.unique(labels)
    cols = cluster_colours(uniq)
    fig, ax = plt.subplots(figsize=(7.5, 6))
    size = 10 if len(labels) <= 2000 else 5
    for c in uniq:  # noise first, under the clusters
        m = labels == c
        ax.scatter(xy[m, 0], xy[m, 1], s=size, color=cols[int(c)], alpha=0.75, linewidths=0,
                   label="noise" if c < 0 else str(c), zorder=1 if c < 0 else 2)
    ax.set_xlabel("PC 1 (%.1f%% of the variance)" % (100 * share[0]))
    ax.set_ylabel("PC 2 (%.1f%% of the variance)" % (100 * share[1]))
    n_clusters = int((uniq >= 0).sum())
    if len(uniq) <= 20:
        ax.legend(title="cluster", loc="center left", bbox_to_anchor=(1.01, 0.5),
                  markerscale=2.5, fontsize=8, frameon=False)
    else:
        title += " (%d clusters: colours by label, no legend)" % n_clusters
    ax.set_title(title)
    return png(fig)


def profiles(columns, overall, clusters):
    """Each cluster's mean of every column against the overall mean, scaled per column by the
    largest difference, so that what sets a cluster apart stands out."""
    means = np.array([[np.nan if v is None else v for v in c["mean"]] for c in clusters],
                     dtype=float)
    diff = means - np.asarray(overall, dtype=float)[None, :]
    scale = np.nanmax(np.abs(diff), axis=0)
    scale[~(scale > 0)] = 1.0
    rel = diff / scale[None, :]
    k, d = rel.shape
    fig, ax = plt.subplots(figsize=(min(16, max(6, 0.55 * d + 2.5)),
                                    min(12, max(2.5, 0.45 * k + 1.8))))
    im = ax.imshow(rel, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(np.arange(d))
    ax.set_xticklabels(columns, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(np.arange(k))
    ax.set_yticklabels(["cluster %d (%d rows)" % (c["label"], c["size"]) for c in clusters],
                       fontsize=8)
    if k * d <= 400:
        for i in range(k):
            for j in range(d):
                if np.isfinite(means[i, j]):
                    v = means[i, j]
                    ax.text(j, i, "%.0f" % v if abs(v) >= 1000 else "%.3g" % v, ha="center",
                            va="center", fontsize=7,
                            color="white" if abs(rel[i, j]) > 0.6 else "black")
    ax.grid(False)
    bar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, ticks=[-1, 0, 1])
    bar.ax.set_yticklabels(["farthest\nbelow", "overall\nmean", "farthest\nabove"], fontsize=8)
    ax.set_title("Cluster profiles: mean of every column")
    return png(fig)
