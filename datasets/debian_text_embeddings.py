#!/usr/bin/python3
"""Text embeddings of real text, made on the machine: the descriptions of Debian's packages (from
`apt-cache dumpavail`, one row per distinct package) embedded by latent semantic analysis
(TF-IDF with sublinear term frequency, then a truncated SVD; Deerwester et al. 1990), rows
scaled to unit length as sentence encoders' outputs are.

  debian_text_embeddings.py OUT.h5 [--dims 256] [--rows N]

OUT.h5 holds /embeddings (rows x dims, float32) and /packages (names). Needs apt's package
lists (apt-get update) and Debian's scikit-learn.
"""
import argparse
import subprocess

import h5py
import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer


def descriptions():
    text = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True,
                          check=True).stdout
    seen = {}
    for stanza in text.split("\n\n"):
        name, desc, in_desc = None, [], False
        for line in stanza.splitlines():
            if line.startswith("Package:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("Description:"):
                desc.append(line.split(":", 1)[1].strip())
                in_desc = True
            elif in_desc and line.startswith(" "):
                desc.append(line.strip(" ."))
            else:
                in_desc = False
        if name and desc and name not in seen:
            seen[name] = " ".join(desc)
    names = sorted(seen)
    return names, [seen[n] for n in names]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--dims", type=int, default=256)
    ap.add_argument("--rows", type=int, default=0, help="keep the first N packages (0 = all)")
    a = ap.parse_args()
    names, docs = descriptions()
    if a.rows:
        names, docs = names[:a.rows], docs[:a.rows]
    tfidf = TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english").fit_transform(docs)
    emb = TruncatedSVD(a.dims, random_state=0).fit_transform(tfidf)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    keep = norms[:, 0] > 0
    emb = (emb[keep] / norms[keep]).astype(np.float32)
    with h5py.File(a.out, "w") as f:
        f["embeddings"] = emb
        f["packages"] = np.array([n for n, k in zip(names, keep) if k], dtype="S")
    print("%s: %d x %d text embeddings (%d packages without words left out)" %
          (a.out, emb.shape[0], emb.shape[1], int((~keep).sum())))


if __name__ == "__main__":
    main()
