# Continuous NRI and IDI of predictions.csv by Hmisc::improveProb (F. Harrell), a
# third-party implementation of Pencina et al. (2008, 2011), for
# tests/validation/test_increment_hmisc.py.  Only the numbers are stored; Hmisc is
# GPL and none of its code is used by alsstats.  Regenerate in this folder with
#   Rscript hmisc_reference.R
library(Hmisc)
d <- read.csv("predictions.csv")
r <- improveProb(x1 = d$p_old, x2 = d$p_new, y = d$y)
keep <- c("nri", "se.nri", "nri.ev", "se.nri.ev", "nri.ne", "se.nri.ne",
          "idi", "se.idi", "improveSens", "improveSpec")
out <- data.frame(metric = keep, value = sapply(keep, function(k) r[[k]]))
write.csv(format(out, digits = 15), "hmisc_reference.csv", row.names = FALSE, quote = FALSE)
cat(sprintf("R %s, Hmisc %s\n", getRversion(), packageVersion("Hmisc")),
    file = "hmisc_versions.txt")
