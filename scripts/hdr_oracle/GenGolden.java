// Generates the golden files for tests/metrics/latency_histogram_test.cpp with the
// reference HdrHistogram (Java, Debian's libhdrhistogram-java). Run scripts/hdr_oracle/run.sh.
// The datasets come from the same 64-bit LCG as the C++ test, so both record identical values.
import java.io.FileOutputStream;
import java.io.PrintStream;
import org.HdrHistogram.Histogram;

public class GenGolden {
    static long state;
    static long next() { state = state * 6364136223846793005L + 1442695040888963407L; return state >>> 33; }

    static void write(String dir, String name, Histogram h, double scale) throws Exception {
        try (PrintStream ps = new PrintStream(new FileOutputStream(dir + "/" + name + ".hgrm"))) {
            h.outputPercentileDistribution(ps, 5, scale);
        }
        double[] pcts = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100};
        try (PrintStream ps = new PrintStream(new FileOutputStream(dir + "/" + name + ".pct"))) {
            ps.println("count " + h.getTotalCount());
            ps.println("max " + h.getMaxValue());
            ps.println("min " + h.getMinValue());
            for (double p : pcts) ps.println("p" + p + " " + h.getValueAtPercentile(p));
        }
    }

    public static void main(String[] args) throws Exception {
        String dir = args[0];
        // uniform: 100k values in [1, 1e6] ns, 3 digits, printed in us.
        state = 1;
        Histogram u = new Histogram(1, 3_600_000_000_000L, 3);
        for (int i = 0; i < 100_000; i++) u.recordValue(next() % 1_000_000 + 1);
        write(dir, "uniform", u, 1000.0);
        // bimodal: ~1-2 us body, every 997th sample a 50-60 ms outlier, 3 digits.
        state = 7;
        Histogram b = new Histogram(1, 3_600_000_000_000L, 3);
        for (int i = 0; i < 200_000; i++) {
            long v = (i % 997 == 0) ? 50_000_000 + next() % 10_000_000 : 1000 + next() % 1000;
            b.recordValue(v);
        }
        write(dir, "bimodal", b, 1.0);
        // coordinated omission (HdrHistogram's README example): 10,000 samples of 1 ms
        // taken every 10 ms, then one 100 s stall; recorded with the expected interval.
        Histogram c = new Histogram(1, 1_000_000_000_000L, 2);
        for (int i = 0; i < 10_000; i++) c.recordValueWithExpectedInterval(1_000, 10_000);
        c.recordValueWithExpectedInterval(100_000_000, 10_000);
        write(dir, "corrected", c, 1000.0);
        // tiny: every value 1..10 once, 1 digit, lowest 1, highest 100.
        Histogram t = new Histogram(1, 100, 1);
        for (int v = 1; v <= 10; v++) t.recordValue(v);
        write(dir, "tiny", t, 1.0);
    }
}
