from ewhtest import node_main
if __name__ == "__main__":
    node_main()
