#include <stdio.h>
int main(void)
{
    puts("usage: cell COMMAND (the engine is not built yet; see cell-runtime)");
    return 0;
}
