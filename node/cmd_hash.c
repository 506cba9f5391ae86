#include "node/cmd.h"
/* work in progress */
struct cmd cmd_hash_table[] = {CMD_END};
