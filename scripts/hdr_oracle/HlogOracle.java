// The Java side of the .hlog oracle (scripts/hdr_oracle/hlog_oracle.sh), with the reference
// HdrHistogram (Debian's libhdrhistogram-java):
//   java HlogOracle read LOG          reads LOG with HistogramLogReader and prints every
//                                     interval in the canonical dump format below
//   java HlogOracle write LOG SEED    writes random intervals with HistogramLogWriter (real
//                                     DEFLATE compression) and prints the same dump
// The C++ side (tests/metrics/histogram_log_oracle.cpp) prints the same format, so a diff of
// the two dumps compares the logs value for value, and the uncompressed V2 encodings byte
// for byte:
//   interval tag=<tag or -> start=<s> length=<s> total=<n> max=<v> mean=<m> p<q>=<v>...
//   bucket <lowest equivalent value> <count>      one per non-empty bucket, ascending
//   v2 <hex of the uncompressed V2 encoding>
import java.io.File;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.SplittableRandom;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.HdrHistogram.HistogramLogReader;
import org.HdrHistogram.HistogramLogWriter;

public class HlogOracle {
    static final double[] PERCENTILES = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100};

    static String fmt(double d) { return String.format(Locale.US, "%.3f", d); }

    static void dump(PrintStream out, String tag, double start, double length, Histogram h) {
        StringBuilder sb = new StringBuilder();
        sb.append("interval tag=").append(tag == null || tag.isEmpty() ? "-" : tag)
          .append(" start=").append(fmt(start)).append(" length=").append(fmt(length))
          .append(" total=").append(h.getTotalCount())
          .append(" max=").append(h.getTotalCount() == 0 ? 0 : h.getMaxValue())
          .append(" mean=").append(fmt(h.getTotalCount() == 0 ? 0.0 : h.getMean()));
        for (double p : PERCENTILES) {
            sb.append(" p").append(p).append('=').append(h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(p));
        }
        out.println(sb);
        for (HistogramIterationValue v : h.recordedValues()) {
            out.println("bucket " + h.lowestEquivalentValue(v.getValueIteratedTo()) + " " + v.getCountAtValueIteratedTo());
        }
        ByteBuffer buf = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoByteBuffer(buf);
        StringBuilder hex = new StringBuilder("v2 ");
        for (int i = 0; i < n; i++) hex.append(String.format("%02x", buf.get(i) & 0xff));
        out.println(hex);
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, false, "UTF-8");
        if (args.length == 2 && args[0].equals("read")) {
            HistogramLogReader reader = new HistogramLogReader(new File(args[1]));
            EncodableHistogram e;
            while ((e = reader.nextIntervalHistogram()) != null) {
                Histogram h = (Histogram) e;
                // The reader rebases times on the log's StartTime; the dump shows the columns
                // as written, relative to the BaseTime both writers declare.
                double start = h.getStartTimeStamp() / 1000.0 - reader.getStartTimeSec();
                double length = (h.getEndTimeStamp() - h.getStartTimeStamp()) / 1000.0;
                dump(out, h.getTag(), start, length, h);
            }
        } else if (args.length == 3 && args[0].equals("write")) {
            SplittableRandom rng = new SplittableRandom(Long.parseLong(args[2]));
            try (PrintStream log = new PrintStream(new FileOutputStream(args[1]))) {
                HistogramLogWriter w = new HistogramLogWriter(log);
                long base = 1_700_000_000_000L;
                w.outputLogFormatVersion();
                w.outputStartTime(base);
                w.setBaseTime(base);
                w.outputBaseTime(base);
                w.outputLegend();
                for (int i = 0; i < 40; i++) {
                    Histogram h = new Histogram(1, 3_600_000_000_000L, 3);
                    int kind = i % 5;
                    int n = kind == 4 ? 0 : 1 + rng.nextInt(5000);
                    for (int k = 0; k < n; k++) {
                        long v;
                        if (kind == 0) v = 1 + rng.nextLong(1_000_000);                 // uniform to 1 ms
                        else if (kind == 1) v = (long) Math.exp(rng.nextDouble() * 28); // log-uniform to ~1.4e12
                        else if (kind == 2) v = rng.nextBoolean() ? 20_000 + rng.nextInt(100) : 5_000_000;
                        else v = rng.nextLong(3_600_000_000_000L);
                        h.recordValueWithCount(v, 1 + (rng.nextInt(10) == 0 ? rng.nextInt(1_000_000) : 0));
                    }
                    h.setStartTimeStamp(base + i * 1000L);
                    h.setEndTimeStamp(base + i * 1000L + 1000L);
                    if (i % 3 == 1) h.setTag("tag" + (i % 2));
                    w.outputIntervalHistogram(h);
                    dump(out, h.getTag(), i, 1.0, h);
                }
            }
        } else {
            System.err.println("usage: HlogOracle read LOG | write LOG SEED");
            System.exit(2);
        }
        out.flush();
    }
}
