#include "node/cmd.h"
/* work in progress */
struct cmd cmd_keys_table[] = {CMD_END};
