#!/usr/bin/env bash
# --target-quality against fixed CRF: `encoda --target-quality 93 --metric vmaf` on INPUT, then the highest fixed
# CRF whose worst chunk still reaches the same VMAF (the fixed CRF a user would need to be sure of 93 everywhere),
# both encoded by encoda with the same chunks. Every chunk's VMAF is measured independently, by
# ../shared/bench/quality.sh (libvmaf from PyPI's imageio-ffmpeg, vmaf_v0.6.1, pooled mean) on that chunk's frames
# of OUTPUT against the same frames of INPUT.
#
# usage: bench/quality-target.sh [INPUT]
#   TARGET (default 93), ENCODER av1|h264 (default av1), PRESET (default 8 for av1, medium for h264),
#   PROBES (default 4), EXTRA (more encoda options, e.g. "--max-scene-length 2" for a short clip),
#   METRIC vmaf|ssimulacra2 (default vmaf; with ssimulacra2 both encoda's probes and the measure of each chunk,
#   `encoda score --every EVERY` on that chunk's frames cut from OUTPUT and INPUT, score every EVERY-th frame, default 5)
# bars (issue 20): >= 80 % of chunks within ±2 VMAF of TARGET, all within ±4, their mean within ±1.5,
#   probes averaging <= 3.5 per chunk; the size saving against the fixed CRF is reported whatever it is, and
#   probe time as a share of the final encodes (time of the encodes not kept / time of the encodes kept).
source "$(dirname "$0")/lib.sh"
ENCODA=$(encoda_bin)
INPUT=${1:-$(synth_clip)}
TARGET=${TARGET:-93}
ENCODER=${ENCODER:-av1}
if [ "$ENCODER" = av1 ]; then PRESET=${PRESET:-8}; else PRESET=${PRESET:-medium}; fi
PROBES=${PROBES:-4}
METRIC=${METRIC:-vmaf}
EVERY=${EVERY:-5}
read -r -a EXTRA_ARGS <<<"${EXTRA:-}"
QUALITY_SH="$SHARED/bench/quality.sh"

# The libvmaf ffmpeg, installed as quality.sh installs it (imageio-ffmpeg wheel into the cache).
vmaf_ffmpeg() {
  local q
  q=$(ls "$CACHE"/site/imageio_ffmpeg/binaries/ffmpeg-linux-x86_64-v* 2>/dev/null | head -1 || true)
  if [ -z "$q" ]; then
    python3 -m pip install -q --target "$CACHE/site" imageio-ffmpeg==0.8.1 >&2
    q=$(ls "$CACHE"/site/imageio_ffmpeg/binaries/ffmpeg-linux-x86_64-v* | head -1)
    chmod +x "$q"
  fi
  printf '%s\n' "$q"
}
export QFF=${QFF:-$(vmaf_ffmpeg)}

header "target quality: $(basename "$INPUT"), $ENCODER preset $PRESET, $METRIC $TARGET, at most $PROBES probes"

# chunk_vmaf OUTPUT TMP — one line per chunk of TMP/job.json: "chunk start end score", each measured (quality.sh or encoda score) on
# that chunk's frames (cut losslessly from OUTPUT) against the same frames of INPUT.
chunk_vmaf() {
  local out=$1 tmp=$2 id a b seg q
  python3 -c 'import json,sys; [print(c["id"], c["range"]["start"], c["range"]["end"]) for c in json.load(open(sys.argv[1]))["chunks"]]' "$tmp/job.json" |
  while read -r id a b; do
    seg="$WORK/seg-$id.mkv"
    ffmpeg -hide_banner -loglevel error -nostdin -y -i "$out" -map 0:v \
      -vf "trim=start_frame=$a:end_frame=$b,setpts=PTS-STARTPTS" -c:v ffv1 "$seg"
    if [ "$METRIC" = vmaf ]; then
      q=$(bash "$QUALITY_SH" "$seg" "$INPUT" "trim=start_frame=$a:end_frame=$b" | sed -n 's/.*vmaf=\([0-9.]*\).*/\1/p')
    else
      ffmpeg -hide_banner -loglevel error -nostdin -y -i "$INPUT" -map 0:v \
        -vf "trim=start_frame=$a:end_frame=$b,setpts=PTS-STARTPTS" -c:v ffv1 "$WORK/ref-$id.mkv"
      q=$("$ENCODA" score "$seg" "$WORK/ref-$id.mkv" --metric ssimulacra2 --every "$EVERY" --json |
        python3 -c 'import json,sys; print(round(json.load(sys.stdin)["score"], 2))')
      rm -f "$WORK/ref-$id.mkv"
    fi
    rm -f "$seg"
    echo "$id $a $b $q"
  done
}

# encode NAME ARGS... — encoda INPUT → $WORK/NAME.mkv with TMP $WORK/NAME.tmp (kept, for its plan), timed.
encode() {
  local name=$1; shift
  rm -rf "$WORK/$name.tmp" "$WORK/$name.mkv"
  time_cmd "$WORK/$name.t" "$ENCODA" "$INPUT" "$WORK/$name.mkv" "$WORK/$name.tmp" --encoder "$ENCODER" --preset "$PRESET" \
    --keep -y "${EXTRA_ARGS[@]}" "$@"
  note "  $name: $(tail -1 "$WORK/$name.t" | cut -d' ' -f1) s, $(stat -c %s "$WORK/$name.mkv") bytes (load $(loadavg))"
}

# 1. Target quality.
if [ "$METRIC" = vmaf ]; then QARGS=(--vmaf-ffmpeg "$QFF"); else QARGS=(--probe-rate "$EVERY"); fi
encode target --target-quality "$TARGET" --metric "$METRIC" "${QARGS[@]}" --probes "$PROBES"
chunk_vmaf "$WORK/target.mkv" "$WORK/target.tmp" >"$WORK/target.vmaf"
SUMMARY="$WORK/target.tmp/summary.json"

# 2. The highest fixed CRF whose worst chunk reaches TARGET: start at the lowest CRF the search chose (under a
#    monotone metric, the CRF the hardest chunk needs), then step down while the worst chunk misses, or up while
#    the next CRF still holds. Chunks that even the range's best end leaves below TARGET (outcome "unreachable")
#    are left out of "worst": no fixed CRF in the range reaches TARGET there either, and a user would not ask it to.
UNREACHABLE=$(python3 -c 'import json,sys; print(" ".join(str(r["chunk"]) for r in json.load(open(sys.argv[1]))["chunks"] if r.get("outcome") == "unreachable"))' "$SUMMARY")
[ -n "$UNREACHABLE" ] && note "  chunks below $TARGET even at the range's best end, left out of the fixed CRF's worst chunk: $UNREACHABLE"
worst() { awk -v skip=" $UNREACHABLE " 'index(skip, " " $1 " ") == 0 && (!n++ || $4 < m) {m = $4} END {print m}' "$1"; }
crf=$(python3 -c 'import json,sys; print(int(min([r["crf"] for r in json.load(open(sys.argv[1]))["chunks"] if r.get("outcome") != "unreachable"] or [10])))' "$SUMMARY")
tried=""
for step in 1 2 3 4 5 6; do
  encode "fixed-$crf" --crf "$crf"
  chunk_vmaf "$WORK/fixed-$crf.mkv" "$WORK/fixed-$crf.tmp" >"$WORK/fixed-$crf.vmaf"
  w=$(worst "$WORK/fixed-$crf.vmaf")
  note "  fixed crf $crf: worst chunk $METRIC $w"
  tried="$tried $crf:$w"
  if [ "$(le "$TARGET" "$w")" = 1 ]; then
    FIXED=$crf
    next=$((crf + 1))
    [ -e "$WORK/fixed-$next.vmaf" ] && break
    crf=$next
  else
    [ -n "${FIXED:-}" ] && break
    crf=$((crf - 1))
  fi
done
if [ -z "${FIXED:-}" ]; then note "no fixed CRF tried ($tried) reaches $METRIC $TARGET in its worst chunk"; exit 1; fi
capped=""
[ ! -e "$WORK/fixed-$((FIXED + 1)).vmaf" ] && capped=" (six encodes tried; a higher CRF may still hold, so the saving is an upper bound)"
note "fixed CRFs tried (crf:worst chunk $METRIC):$tried → $FIXED$capped"

# 3. Figures and bars.
python3 - "$WORK/target.vmaf" "$SUMMARY" "$TARGET" "$(stat -c %s "$WORK/target.mkv")" "$(stat -c %s "$WORK/fixed-$FIXED.mkv")" \
  "$FIXED" "$(tail -1 "$WORK/target.t" | cut -d' ' -f1)" "$(tail -1 "$WORK/fixed-$FIXED.t" | cut -d' ' -f1)" >"$WORK/figures" <<'PY'
import json, sys
vm, summary, target = sys.argv[1], json.load(open(sys.argv[2])), float(sys.argv[3])
size_t, size_f, fixed, wall_t, wall_f = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], float(sys.argv[7]), float(sys.argv[8])
rows = {r["chunk"]: r for r in summary["chunks"]}
measured = {int(l.split()[0]): float(l.split()[3]) for l in open(vm)}
print("chunk  frames  crf  encoda-probe  measured-again  off-target  probes  outcome")
for c, v in sorted(measured.items()):
    r = rows[c]
    print(f"{c:05d}  {r['frames']:6d}  {r['crf']:3.0f}  {r.get('score', float('nan')):12.2f}  {v:14.2f}  {v - target:+10.2f}  {r.get('probes', 0):6d}  {r.get('outcome', '')}")
off = [abs(v - target) for v in measured.values()]
n = len(off)
within2 = sum(d <= 2 for d in off) / n
mean = sum(measured.values()) / n
probes = sum(r.get("probes", 0) for r in rows.values()) / len(rows)
final = sum(r.get("finalSeconds", 0) for r in rows.values())
spent = sum(r.get("probeSeconds", 0) for r in rows.values())
share = (spent - final) / final if final > 0 else float("nan")
saving = 1 - size_t / size_f
print(f"FIG within2 {within2:.3f} {1 if within2 >= 0.8 else 0}")
print(f"FIG within4 {max(off):.2f} {1 if max(off) <= 4 else 0}")
print(f"FIG mean {mean:.2f} {1 if abs(mean - target) <= 1.5 else 0}")
print(f"FIG probes {probes:.2f} {1 if probes <= 3.5 else 0}")
print(f"FIG saving {saving * 100:+.1f} {size_t} {size_f} {fixed}")
print(f"FIG share {share:.2f} {spent:.1f} {final:.1f} {wall_t:.1f} {wall_f:.1f}")
# The same figures over the chunks where the search had a choice (outcome "reached"); a chunk at the range's end
# scores what the encoder gives there, which no CRF inside the range changes.
steer = {c: v for c, v in measured.items() if rows[c].get("outcome") == "reached"}
ends = " ".join(f"{c}:{rows[c].get('outcome')}@{rows[c]['crf']:.0f}={v:.2f}" for c, v in sorted(measured.items()) if c not in steer)
if steer:
    d = [abs(v - target) for v in steer.values()]
    print(f"FIG steer {len(steer)} {n} {sum(x <= 2 for x in d) / len(d):.3f} {max(d):.2f} {sum(steer.values()) / len(steer):.2f} {ends or '-'}")
PY
grep -v '^FIG' "$WORK/figures" >&2
fig() { grep "^FIG $1 " "$WORK/figures" | cut -d' ' -f3-; }
read -r w2 ok2 <<<"$(fig within2)"; read -r w4 ok4 <<<"$(fig within4)"; read -r mv okm <<<"$(fig mean)"
read -r pr okp <<<"$(fig probes)"; read -r sv st sf fx <<<"$(fig saving)"; read -r sh spent final wt wf <<<"$(fig share)"
verdict "target $METRIC ±2" "$ok2" "$(awk -v x="$w2" 'BEGIN {printf "%.0f %%", x * 100}') of chunks within ±2 of $TARGET (bar >= 80 %)"
verdict "target $METRIC ±4" "$ok4" "largest miss $w4 (bar <= 4)"
verdict "target $METRIC mean" "$okm" "mean chunk $METRIC $mv (bar $TARGET ±1.5)"
verdict "target probes" "$okp" "$pr probes per chunk on average (bar <= 3.5)"
verdict "target size saving" 1 "$sv % against fixed crf $fx ($st vs $sf bytes; reported, no bar)"
if grep -q '^FIG steer ' "$WORK/figures"; then
  read -r sn sall sw2 sw4 smv sends <<<"$(fig steer)"
  note "chunks where the search had a choice ($sn of $sall): $(awk -v x="$sw2" 'BEGIN {printf "%.0f %%", x * 100}') within ±2, largest miss $sw4, mean $smv; at the range's end (chunk:outcome@crf=score): $sends"
fi
note "probe time: $sh x the kept encodes ($spent s of encodes and scoring, $final s of them kept); wall $wt s vs $wf s at fixed crf $fx"
if command -v av1an >/dev/null || command -v ab-av1 >/dev/null; then
  note "av1an/ab-av1 found on PATH, but this script does not run them yet"
else
  note "av1an and ab-av1 are not installed here: no comparison with their target quality (PyPI's Av1an 6.1.5 probes SVT-AV1 with 0.8-era options that SvtAv1EncApp 1.4.1 refuses; ab-av1 is a Rust crate, not on PyPI)"
fi
