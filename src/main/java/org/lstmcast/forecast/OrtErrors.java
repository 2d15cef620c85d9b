package org.lstmcast.forecast;

import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/**
 * ONNX Runtime's error messages as a user should read them: its own words, without the error-code preamble, the C++
 * source locations and function signatures, the server's file paths or requests to file bug reports upstream.
 */
public final class OrtErrors {
    private static final Pattern PREAMBLE = Pattern.compile("^Error code - ORT_[A-Z_]+ - message:\\s*");
    private static final Pattern CODE = Pattern.compile("\\[ONNXRuntimeError\\]\\s*:\\s*\\d+\\s*:\\s*[A-Z_]+\\s*:\\s*");
    private static final Pattern LOAD_FROM = Pattern.compile("Load model from \\S+ failed:\\s*");
    /** {@code /path/to/file.cc:123 ns::Class::method(args) const } and bare {@code file.cc:123}. */
    private static final Pattern SOURCE = Pattern.compile(
            "\\S*\\.(?:cc|cpp|h|hpp|cu):\\d+\\s*(?:[\\w:~<>,*& ]+\\([^()]*\\)(?:\\s*const)?\\s*)?");
    private static final Pattern UPSTREAM = Pattern.compile("[^.]*(?:github|issue tracker|create an issue)[^.]*\\.?",
            Pattern.CASE_INSENSITIVE);

    private OrtErrors() {
    }

    /**
     * Runs {@code session} on inputs already checked against its declared signature. What the runtime still refuses
     * as an invalid argument depends on the values or sizes sent (a reshape inside the graph that does not divide), so
     * it is the caller's to fix: an {@link InvalidInputException}. Any other failure stays an {@link OrtException}.
     */
    public static OrtSession.Result run(OrtSession session, Map<String, ? extends OnnxTensorLike> inputs,
                                        Set<String> outputs) throws OrtException {
        return run(session, inputs, outputs, null);
    }

    /** {@link #run(OrtSession, Map, Set)} under run options (null for none), through which another thread may stop it. */
    public static OrtSession.Result run(OrtSession session, Map<String, ? extends OnnxTensorLike> inputs,
                                        Set<String> outputs, OrtSession.RunOptions options) throws OrtException {
        try {
            return options == null ? session.run(inputs, outputs) : session.run(inputs, outputs, options);
        } catch (OrtException e) {
            if (e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT) {
                throw new InvalidInputException("the model refused the input: " + message(e));
            }
            throw e;
        }
    }

    /** The message of {@code e}, cleaned; its error code's name when it has no words of its own. */
    public static String message(OrtException e) {
        String clean = clean(e.getMessage());
        return clean.isEmpty() ? e.getCode().toString() : clean;
    }

    /** Cleans any text that may hold an ONNX Runtime message. */
    public static String clean(String message) {
        if (message == null) {
            return "";
        }
        String m = message.replaceAll("\\s+", " ").trim();
        m = PREAMBLE.matcher(m).replaceFirst("");
        m = CODE.matcher(m).replaceAll("");
        m = LOAD_FROM.matcher(m).replaceAll("");
        m = SOURCE.matcher(m).replaceAll("");
        m = UPSTREAM.matcher(m).replaceAll("");
        return m.replaceAll("\\s+", " ").trim();
    }
}
