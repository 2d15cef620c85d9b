package org.lstmcast.cli;

import java.io.PrintWriter;
import java.util.List;

import org.lstmcast.Version;
import org.lstmcast.forecast.OrtLibraries;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code lstmcast}: the one program; each capability is a subcommand. */
@Command(name = "lstmcast",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        description = "LSTM time-series forecasting: train with DL4J, export to ONNX, serve with ONNX Runtime.")
public final class Main implements Runnable {

    /** The subcommands, in the order the help lists them ({@code help} follows them). */
    static final List<Class<?>> COMMANDS = List.of(TrainCommand.class, TrainManyCommand.class, TrainGlobalCommand.class,
            ExportCommand.class, ConvertCommand.class, InspectCommand.class, PredictCommand.class,
            PredictManyCommand.class, ServeCommand.class, BenchCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        OrtLibraries.preferUnpacked(Main.class);
        if (args.length > 0 && args[0].equals("serve")) {
            ServeCommand.initialiseInBackground();
        }
        int code;
        try {
            code = run(args);
        } catch (OutOfMemoryError e) {
            System.err.println("lstmcast: error: out of memory; give the JVM more with -Xmx, or use less data");
            code = CommandLine.ExitCode.SOFTWARE;
        } catch (Throwable e) {
            // picocli hands on Errors (a broken install, a native library that will not load): still one line.
            System.err.println("lstmcast: error: " + e);
            code = CommandLine.ExitCode.SOFTWARE;
        }
        System.exit(code);
    }

    /** Runs the program and returns its exit code: 0 success, 1 runtime failure, 2 usage error. */
    public static int run(String... args) {
        return commandLine(args).execute(args);
    }

    /** The whole command tree: every subcommand and {@code help}. */
    static CommandLine commandLine() {
        return commandLine(new String[0]);
    }

    /**
     * The command tree for these arguments. When the first one names a subcommand, only that subcommand is added:
     * picocli reads every option of every command it is given by reflection, which took 0.2 s of {@code serve}'s start
     * for ten commands (docs/BENCHMARKS.md, "Start to ready"); what the one command parses, prints and reports is the
     * same as in the whole tree (MainTest). Anything else (no arguments, an option, {@code help}, a typo) gets the whole
     * tree, so the top-level help and its "did you mean" list every command.
     */
    static CommandLine commandLine(String... args) {
        CommandLine cl = new CommandLine(new Main());
        Class<?> named = args.length == 0 ? null : COMMANDS.stream()
                .filter(c -> c.getAnnotation(Command.class).name().equals(args[0])).findFirst().orElse(null);
        if (named != null) {
            cl.addSubcommand(named);
        } else {
            COMMANDS.forEach(cl::addSubcommand);
            cl.addSubcommand(CommandLine.HelpCommand.class);
        }
        cl.setExecutionExceptionHandler(new Errors());
        cl.setParameterExceptionHandler(Main::usageError);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    @Override
    public void run() {
        // No subcommand: show what there is, as git does.
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(cl.getCommandName() + ": " + e.getMessage());
        if (cl.getCommandSpec().parent() == null) {
            cl.usage(err);
        } else {
            err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for the options.");
        }
        err.flush();
        return CommandLine.ExitCode.USAGE;
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"lstmcast " + Version.get(),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
